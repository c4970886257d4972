//! The alert lifecycle as a pure state machine.
//!
//! ```text
//!   trigger ─► active ──ack──► acknowledged ──clear/resolve──► cleared
//!                 │                                              ▲
//!                 └──────────────clear/resolve───────────────────┘   (ack still allowed after)
//! ```
//!
//! A trigger while an alert for the same (rule, source) is open updates that alert (count,
//! message, details, severity; `escalated` when the severity rises) instead of opening another.
//! A trigger after it was cleared opens a new alert. Every transition yields the history entries
//! to append, and the action to notify about (if any).

use crate::model::{Action, Alert, AlertState, HistoryEntry, RuleKind, Severity};
use serde_json::Value;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum LifecycleError {
    #[error("alert {0} is already acknowledged")]
    AlreadyAcknowledged(i64),
    #[error("alert {0} is already cleared")]
    AlreadyCleared(i64),
    #[error("{0} must not be empty")]
    Empty(&'static str),
    #[error("this command needs an existing alert")]
    NoAlert,
}

/// A rule's verdict that its condition holds for a source.
#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    pub rule: RuleKind,
    pub source: String,
    pub station: Option<String>,
    pub parameter: Option<String>,
    pub datastream_id: Option<i64>,
    pub severity: Severity,
    pub message: String,
    pub details: Value,
    /// Phenomenon time of the observation behind the verdict.
    pub observed_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Trigger(Trigger),
    /// The condition ended (the engine clears automatically).
    Resolve {
        message: String,
        details: Value,
    },
    Acknowledge {
        by: String,
        comment: Option<String>,
    },
    Clear {
        by: String,
        comment: Option<String>,
    },
    Comment {
        by: String,
        text: String,
    },
}

/// The new state of the alert after a command.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub alert: Alert,
    /// Entries to append to the alert's history, oldest first.
    pub history: Vec<HistoryEntry>,
    /// A new alert was opened (it has no id yet).
    pub created: bool,
    /// What to tell people about, if anything (comments and plain updates are not notified).
    pub notify: Option<Action>,
}

/// Applies one command to the open alert of its (rule, source), if any, at `now`.
pub fn apply(
    current: Option<&Alert>,
    command: Command,
    now: i64,
) -> Result<Outcome, LifecycleError> {
    match command {
        Command::Trigger(t) => Ok(trigger(
            current.filter(|a| a.state != AlertState::Cleared),
            t,
            now,
        )),
        Command::Resolve { message, details } => resolve(
            current.ok_or(LifecycleError::NoAlert)?,
            message,
            details,
            now,
        ),
        Command::Acknowledge { by, comment } => {
            acknowledge(current.ok_or(LifecycleError::NoAlert)?, by, comment, now)
        }
        Command::Clear { by, comment } => {
            clear(current.ok_or(LifecycleError::NoAlert)?, by, comment, now)
        }
        Command::Comment { by, text } => {
            comment(current.ok_or(LifecycleError::NoAlert)?, by, text, now)
        }
    }
}

fn entry(
    alert: &Alert,
    at: i64,
    action: Action,
    by: Option<String>,
    message: Option<String>,
    details: Value,
) -> HistoryEntry {
    HistoryEntry {
        at,
        action,
        by,
        severity: alert.severity,
        state: alert.state,
        message,
        details,
    }
}

/// Opens a new alert, or updates the open one (never a second open alert per rule and source).
pub fn trigger(open: Option<&Alert>, t: Trigger, now: i64) -> Outcome {
    match open {
        Some(existing) => {
            let mut a = existing.clone();
            let escalated = t.severity > a.severity;
            a.severity = t.severity;
            a.message = t.message.clone();
            a.details = t.details.clone();
            a.count = a.count.saturating_add(1);
            a.updated_at = now;
            if t.observed_at.is_some() {
                a.last_observed = t.observed_at;
            }
            if t.datastream_id.is_some() {
                a.datastream_id = t.datastream_id;
            }
            let action = if escalated {
                Action::Escalated
            } else {
                Action::Updated
            };
            // Plain updates are not written to history: a storm-long exceedance would otherwise
            // add a line per value; the alert itself carries the count and the latest details.
            let history = if escalated {
                vec![entry(&a, now, action, None, Some(t.message), t.details)]
            } else {
                Vec::new()
            };
            Outcome {
                alert: a,
                history,
                created: false,
                notify: escalated.then_some(Action::Escalated),
            }
        }
        None => {
            let a = Alert {
                id: 0,
                rule: t.rule,
                source: t.source,
                station: t.station,
                parameter: t.parameter,
                datastream_id: t.datastream_id,
                severity: t.severity,
                state: AlertState::Active,
                acknowledged: false,
                acknowledged_by: None,
                acknowledged_at: None,
                cleared_at: None,
                cleared_by: None,
                created_at: now,
                updated_at: now,
                first_observed: t.observed_at,
                last_observed: t.observed_at,
                count: 1,
                message: t.message.clone(),
                details: t.details.clone(),
            };
            let history = vec![entry(
                &a,
                now,
                Action::Raised,
                None,
                Some(t.message),
                t.details,
            )];
            Outcome {
                alert: a,
                history,
                created: true,
                notify: Some(Action::Raised),
            }
        }
    }
}

/// The condition ended: the alert clears by itself.
pub fn resolve(
    alert: &Alert,
    message: String,
    details: Value,
    now: i64,
) -> Result<Outcome, LifecycleError> {
    if alert.state == AlertState::Cleared {
        return Err(LifecycleError::AlreadyCleared(alert.id));
    }
    let mut a = alert.clone();
    a.state = AlertState::Cleared;
    a.cleared_at = Some(now);
    a.cleared_by = None;
    a.updated_at = now;
    let history = vec![entry(
        &a,
        now,
        Action::Cleared,
        None,
        Some(message),
        details,
    )];
    Ok(Outcome {
        alert: a,
        history,
        created: false,
        notify: Some(Action::Cleared),
    })
}

pub fn acknowledge(
    alert: &Alert,
    by: String,
    comment: Option<String>,
    now: i64,
) -> Result<Outcome, LifecycleError> {
    let by = non_empty(by, "by")?;
    if alert.acknowledged {
        return Err(LifecycleError::AlreadyAcknowledged(alert.id));
    }
    let mut a = alert.clone();
    a.acknowledged = true;
    a.acknowledged_by = Some(by.clone());
    a.acknowledged_at = Some(now);
    if a.state == AlertState::Active {
        a.state = AlertState::Acknowledged;
    }
    a.updated_at = now;
    let comment = comment.filter(|c| !c.trim().is_empty());
    let history = vec![entry(
        &a,
        now,
        Action::Acknowledged,
        Some(by),
        comment,
        Value::Null,
    )];
    Ok(Outcome {
        alert: a,
        history,
        created: false,
        notify: Some(Action::Acknowledged),
    })
}

/// Cleared by hand. If the condition still holds, the rule raises a new alert once it has held
/// for its minimum duration again.
pub fn clear(
    alert: &Alert,
    by: String,
    comment: Option<String>,
    now: i64,
) -> Result<Outcome, LifecycleError> {
    let by = non_empty(by, "by")?;
    if alert.state == AlertState::Cleared {
        return Err(LifecycleError::AlreadyCleared(alert.id));
    }
    let mut a = alert.clone();
    a.state = AlertState::Cleared;
    a.cleared_at = Some(now);
    a.cleared_by = Some(by.clone());
    a.updated_at = now;
    let comment = comment.filter(|c| !c.trim().is_empty());
    let history = vec![entry(
        &a,
        now,
        Action::Cleared,
        Some(by),
        comment,
        Value::Null,
    )];
    Ok(Outcome {
        alert: a,
        history,
        created: false,
        notify: Some(Action::Cleared),
    })
}

pub fn comment(
    alert: &Alert,
    by: String,
    text: String,
    now: i64,
) -> Result<Outcome, LifecycleError> {
    let by = non_empty(by, "by")?;
    let text = non_empty(text, "comment")?;
    let mut a = alert.clone();
    a.updated_at = now;
    let history = vec![entry(
        &a,
        now,
        Action::Commented,
        Some(by),
        Some(text),
        Value::Null,
    )];
    Ok(Outcome {
        alert: a,
        history,
        created: false,
        notify: None,
    })
}

fn non_empty(s: String, what: &'static str) -> Result<String, LifecycleError> {
    let t = s.trim();
    if t.is_empty() {
        Err(LifecycleError::Empty(what))
    } else {
        Ok(t.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn trig(sev: Severity) -> Command {
        Command::Trigger(Trigger {
            rule: RuleKind::Exceedance,
            source: "W01:tp:hourly".into(),
            station: Some("W01".into()),
            parameter: Some("tp".into()),
            datastream_id: Some(7),
            severity: sev,
            message: format!("tp {sev}"),
            details: json!({"value": 0.05}),
            observed_at: Some(100),
        })
    }

    fn ack(by: &str) -> Command {
        Command::Acknowledge {
            by: by.into(),
            comment: Some("on it".into()),
        }
    }

    fn clear_by(by: &str) -> Command {
        Command::Clear {
            by: by.into(),
            comment: None,
        }
    }

    fn resolve_cmd() -> Command {
        Command::Resolve {
            message: "back within the target".into(),
            details: Value::Null,
        }
    }

    /// Commands in order, the final state, acknowledged, the notification of each command.
    type Case = (Vec<Command>, AlertState, bool, Vec<Option<Action>>);

    #[test]
    fn lifecycle_table() {
        use AlertState::*;
        // (commands in order, expected final state, acknowledged, notifications)
        let cases: Vec<Case> = vec![
            (
                vec![trig(Severity::Major)],
                Active,
                false,
                vec![Some(Action::Raised)],
            ),
            (
                vec![trig(Severity::Major), trig(Severity::Major)],
                Active,
                false,
                vec![Some(Action::Raised), None],
            ),
            (
                vec![trig(Severity::Minor), trig(Severity::Critical)],
                Active,
                false,
                vec![Some(Action::Raised), Some(Action::Escalated)],
            ),
            (
                vec![trig(Severity::Major), ack("li"), resolve_cmd()],
                Cleared,
                true,
                vec![
                    Some(Action::Raised),
                    Some(Action::Acknowledged),
                    Some(Action::Cleared),
                ],
            ),
            (
                vec![trig(Severity::Major), resolve_cmd(), ack("li")],
                Cleared,
                true,
                vec![
                    Some(Action::Raised),
                    Some(Action::Cleared),
                    Some(Action::Acknowledged),
                ],
            ),
            (
                vec![trig(Severity::Major), clear_by("wang")],
                Cleared,
                false,
                vec![Some(Action::Raised), Some(Action::Cleared)],
            ),
            (
                vec![trig(Severity::Major), ack("li"), trig(Severity::Major)],
                Acknowledged,
                true,
                vec![Some(Action::Raised), Some(Action::Acknowledged), None],
            ),
        ];
        for (i, (commands, state, acked, notes)) in cases.into_iter().enumerate() {
            let mut current: Option<Alert> = None;
            let mut seen = Vec::new();
            for (t, c) in commands.into_iter().enumerate() {
                let out = apply(current.as_ref(), c, 1000 + t as i64)
                    .unwrap_or_else(|e| panic!("case {i}: {e}"));
                seen.push(out.notify);
                current = Some(out.alert);
            }
            let a = current.expect("alert");
            assert_eq!(a.state, state, "case {i}");
            assert_eq!(a.acknowledged, acked, "case {i}");
            assert_eq!(seen, notes, "case {i}");
        }
    }

    #[test]
    fn retrigger_updates_the_open_alert() {
        let first = apply(None, trig(Severity::Minor), 10).expect("raise");
        assert!(first.created);
        let mut open = first.alert;
        open.id = 5;
        let again = apply(Some(&open), trig(Severity::Minor), 20).expect("update");
        assert!(!again.created);
        assert_eq!(again.alert.id, 5);
        assert_eq!(again.alert.count, 2);
        assert!(
            again.history.is_empty(),
            "plain updates do not grow the history"
        );
        let esc = apply(Some(&again.alert), trig(Severity::Critical), 30).expect("escalate");
        assert_eq!(esc.history[0].action, Action::Escalated);
        assert_eq!(esc.alert.severity, Severity::Critical);
    }

    #[test]
    fn trigger_after_clear_opens_a_new_alert() {
        let mut a = apply(None, trig(Severity::Major), 10).expect("raise").alert;
        a.id = 1;
        let cleared = apply(Some(&a), resolve_cmd(), 20).expect("resolve").alert;
        let again = apply(Some(&cleared), trig(Severity::Major), 30).expect("raise again");
        assert!(again.created);
        assert_eq!(again.alert.id, 0);
        assert_eq!(again.alert.created_at, 30);
    }

    #[test]
    fn errors() {
        let a = apply(None, trig(Severity::Major), 10).expect("raise").alert;
        let acked = apply(Some(&a), ack("li"), 11).expect("ack").alert;
        assert_eq!(
            apply(Some(&acked), ack("li"), 12),
            Err(LifecycleError::AlreadyAcknowledged(0))
        );
        let cleared = apply(Some(&acked), clear_by("li"), 13)
            .expect("clear")
            .alert;
        assert_eq!(cleared.cleared_by.as_deref(), Some("li"));
        assert_eq!(
            apply(Some(&cleared), clear_by("li"), 14),
            Err(LifecycleError::AlreadyCleared(0))
        );
        assert_eq!(
            apply(Some(&cleared), resolve_cmd(), 14),
            Err(LifecycleError::AlreadyCleared(0))
        );
        assert_eq!(
            apply(Some(&a), ack("  "), 15),
            Err(LifecycleError::Empty("by"))
        );
        assert_eq!(
            apply(
                Some(&a),
                Command::Comment {
                    by: "li".into(),
                    text: "".into()
                },
                15
            ),
            Err(LifecycleError::Empty("comment"))
        );
        assert_eq!(apply(None, ack("li"), 15), Err(LifecycleError::NoAlert));
        let c = apply(
            Some(&cleared),
            Command::Comment {
                by: "li".into(),
                text: "root cause: storm".into(),
            },
            16,
        )
        .expect("comments are allowed on cleared alerts");
        assert_eq!(c.history[0].action, Action::Commented);
        assert_eq!(c.notify, None);
    }
}
