//! Roles and the principal a request acts as.

use serde::Serialize;

/// What a person may do. Each role includes the ones below it:
/// `viewer` reads; `operator` also acknowledges, clears and comments alerts, writes data
/// (STA, scenes) and opens live video; `reviewer` also reviews data; `admin` also manages
/// accounts, tokens of others and reads the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Operator,
    Reviewer,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Operator, Role::Reviewer, Role::Admin];

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Viewer => "浏览",
            Role::Operator => "值班",
            Role::Reviewer => "审核",
            Role::Admin => "管理员",
        }
    }
}

/// How a user's request was authenticated.
#[derive(Debug, Clone, PartialEq)]
pub enum Via {
    Session {
        digest: String,
        csrf: String,
        expires_at: i64,
    },
    Token {
        id: i64,
        prefix: String,
    },
}

/// Who a request acts as.
#[derive(Debug, Clone, PartialEq)]
pub enum Principal {
    /// No credentials.
    Anonymous,
    /// No credentials, on a server run with `--open` (local demos): may write data, act on
    /// alerts and review — but not manage accounts or read the audit trail (that needs a real
    /// admin), nor see station MNs.
    Open,
    /// A configured `[auth] tokens` service token: the admin role.
    Service,
    User {
        id: i64,
        name: String,
        display_name: String,
        role: Role,
        via: Via,
    },
}

impl Principal {
    /// The role the request acts with (`None`: may only do what is public).
    pub fn role(&self) -> Option<Role> {
        match self {
            Principal::Anonymous => None,
            Principal::Open => Some(Role::Reviewer),
            Principal::Service => Some(Role::Admin),
            Principal::User { role, .. } => Some(*role),
        }
    }

    /// The audit trail's name for it.
    pub fn label(&self) -> String {
        match self {
            Principal::Anonymous => "anonymous".into(),
            Principal::Open => "anonymous (--open)".into(),
            Principal::Service => "service".into(),
            Principal::User {
                name,
                via: Via::Token { prefix, .. },
                ..
            } => format!("token:{prefix}…({name})"),
            Principal::User { name, .. } => format!("user:{name}"),
        }
    }

    /// The name an alert's history shows: a person's own name; services and `--open` clients
    /// may say who they act for (`claimed`).
    pub fn actor(&self, claimed: &str) -> String {
        match self {
            Principal::User {
                name, display_name, ..
            } if display_name.is_empty() || display_name == name => name.clone(),
            Principal::User {
                name, display_name, ..
            } => format!("{display_name} ({name})"),
            _ if !claimed.trim().is_empty() => claimed.trim().to_string(),
            other => other.label(),
        }
    }

    pub fn user_id(&self) -> Option<i64> {
        match self {
            Principal::User { id, .. } => Some(*id),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_include_the_ones_below() {
        assert!(Role::Admin > Role::Reviewer && Role::Reviewer > Role::Operator);
        assert!(Role::Operator > Role::Viewer);
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn a_person_acts_under_their_own_name() {
        let p = Principal::User {
            id: 1,
            name: "wang".into(),
            display_name: "王值班".into(),
            role: Role::Operator,
            via: Via::Token {
                id: 3,
                prefix: "qs_1234567".into(),
            },
        };
        assert_eq!(p.actor("someone else"), "王值班 (wang)");
        assert_eq!(p.label(), "token:qs_1234567…(wang)");
        assert_eq!(Principal::Service.actor("scada"), "scada");
        assert_eq!(Principal::Service.actor(""), "service");
    }
}
