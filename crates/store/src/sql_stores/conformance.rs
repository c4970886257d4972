//! One behaviour test of the capability stores for every backend (feature `conformance`, enabled
//! by the backends' dev-dependencies): `store-sqlite/tests/capabilities.rs` and
//! `store-postgres/tests/capabilities.rs` run these against a fresh store each, so both engines
//! are held to the same answers.

use crate::StoreError;
use crate::accounts::{
    AccountStore, AuditFilter, AuditRecord, SessionRecord, TokenRecord, UserRecord,
};
use crate::alerts::{AlertFilter, AlertHistoryRecord, AlertRecord, AlertStore, EnginePosition};
use crate::review::{ApprovalRecord, ReviewRecord, ReviewStore, Verdict};
use crate::scenes::{SceneRecord, SceneStore};
use serde_json::json;

fn alert(state: &str, station: &str) -> AlertRecord {
    AlertRecord {
        id: 0,
        rule: "exceedance".into(),
        source: format!("{station}:tp:hourly"),
        station: Some(station.into()),
        severity: "major".into(),
        state: state.into(),
        created_at: 1,
        updated_at: 1,
        body: json!({"message": "tp"}),
        expected_updated_at: None,
    }
}

fn line(action: &str) -> AlertHistoryRecord {
    AlertHistoryRecord {
        at: 1,
        action: action.into(),
        body: json!({"by": null}),
    }
}

/// One open alert per (rule, source); history in order; the body carries the id; filters count.
pub async fn alerts(store: &dyn AlertStore) {
    let id = store
        .save_alert(alert("active", "W01"), vec![line("raised")])
        .await
        .expect("insert");
    assert!(id > 0);
    let err = store
        .save_alert(alert("active", "W01"), vec![])
        .await
        .expect_err("second open alert");
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("open alert")),
        "{err:?}"
    );
    // Compare and set: a change built on a version that is no longer stored is refused and
    // changes nothing; built on the stored one, it lands.
    let mut acknowledged = alert("acknowledged", "W01");
    acknowledged.id = id;
    acknowledged.updated_at = 3;
    acknowledged.expected_updated_at = Some(1);
    store
        .save_alert(acknowledged.clone(), vec![line("acknowledged")])
        .await
        .expect("built on the stored version");
    let mut stale = alert("active", "W01");
    stale.id = id;
    stale.updated_at = 4;
    stale.expected_updated_at = Some(1);
    let err = store
        .save_alert(stale, vec![line("updated")])
        .await
        .expect_err("built on a version changed since");
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("changed by someone else")),
        "{err:?}"
    );
    let (row, history) = store.alert(id).await.expect("read").expect("found");
    assert_eq!((row.state.as_str(), row.updated_at), ("acknowledged", 3));
    assert_eq!(history.len(), 2, "the refused change added no history");
    let mut cleared = alert("cleared", "W01");
    cleared.id = id;
    cleared.updated_at = 5;
    cleared.expected_updated_at = Some(3);
    store
        .save_alert(cleared, vec![line("cleared")])
        .await
        .expect("update");
    // Cleared: a new open alert for the same source is fine.
    let reopened = store
        .save_alert(alert("active", "W01"), vec![line("raised")])
        .await
        .expect("new open alert");
    assert_ne!(reopened, id);
    // Opening the cleared one again while another is open is the same conflict.
    let mut again = alert("active", "W01");
    again.id = id;
    let err = store.save_alert(again, vec![]).await.expect_err("reopen");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    store
        .save_alert(alert("active", "R01"), vec![line("raised")])
        .await
        .expect("other station");
    let mut missing = alert("active", "X01");
    missing.id = 9_999;
    let err = store
        .save_alert(missing, vec![])
        .await
        .expect_err("missing");
    assert!(matches!(err, StoreError::Sta(_)), "{err:?}");

    let (rows, total) = store
        .alerts(AlertFilter {
            states: vec!["active".into()],
            stations: vec!["W01".into()],
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!((rows.len(), total), (1, 1));
    assert_eq!(rows[0].id, reopened);
    let (rows, total) = store
        .alerts(AlertFilter {
            limit: 2,
            offset: 1,
            ..Default::default()
        })
        .await
        .expect("page");
    assert_eq!((rows.len(), total), (2, 3));

    let (a, history) = store.alert(id).await.expect("read").expect("exists");
    assert_eq!(a.state, "cleared");
    assert_eq!(a.updated_at, 5);
    assert_eq!(a.body["id"], json!(id));
    assert_eq!(a.station.as_deref(), Some("W01"));
    assert_eq!(
        history
            .iter()
            .map(|h| h.action.as_str())
            .collect::<Vec<_>>(),
        ["raised", "acknowledged", "cleared"]
    );
    assert!(store.alert(9_999).await.expect("read").is_none());

    // The engine's position: none before the first save; then the last one saved, except that
    // `last_id` and `revised_after` never go back.
    assert_eq!(store.engine_position().await.expect("position"), None);
    let at = |last_id, revised_after, saved_at| EnginePosition {
        cursor: crate::ObservationCursor {
            last_id,
            revised_after,
        },
        saved_at,
    };
    store
        .save_engine_position(at(40, 7, 100))
        .await
        .expect("save");
    assert_eq!(
        store.engine_position().await.expect("position"),
        Some(at(40, 7, 100))
    );
    store
        .save_engine_position(at(30, 9, 200))
        .await
        .expect("save");
    assert_eq!(
        store.engine_position().await.expect("position"),
        Some(at(40, 9, 200)),
        "a smaller last_id does not rewind the position"
    );
}

/// The overlay comes back byte for byte (PNG bytes are no UTF-8); scenes list latest first.
pub async fn scenes(store: &dyn SceneStore) {
    let png: Vec<u8> = vec![
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe,
    ];
    let scene = |time: i64| SceneRecord {
        id: 0,
        time,
        sensor: "sentinel-2".into(),
        created_at: 7,
        body: json!({"figures": {"chl_a": 12.5}}),
    };
    let older = store
        .save_scene(scene(100), png.clone())
        .await
        .expect("save");
    let newer = store.save_scene(scene(200), vec![]).await.expect("save");
    assert_ne!(older, newer);
    let list = store.scenes(10).await.expect("list");
    assert_eq!(
        list.iter().map(|s| s.id).collect::<Vec<_>>(),
        [newer, older]
    );
    assert_eq!(store.scenes(0).await.expect("at least one").len(), 1);
    let s = store.scene(older).await.expect("read").expect("exists");
    assert_eq!(
        (s.time, s.sensor.as_str(), s.created_at),
        (100, "sentinel-2", 7)
    );
    assert_eq!(s.body["figures"]["chl_a"], json!(12.5));
    assert_eq!(
        store.scene_overlay(older).await.expect("overlay"),
        Some(png)
    );
    assert_eq!(
        store.scene_overlay(newer).await.expect("overlay"),
        Some(vec![])
    );
    assert_eq!(store.scene_overlay(9_999).await.expect("overlay"), None);
    assert!(store.scene(9_999).await.expect("read").is_none());
}

/// Users by name (unique), tokens revoked once, sessions expire, the audit filter.
pub async fn accounts(store: &dyn AccountStore) {
    let user = |name: &str| UserRecord {
        id: 0,
        name: name.into(),
        display_name: "王工".into(),
        role: "operator".into(),
        password_hash: "$argon2id$v=19$…".into(),
        disabled: false,
        created_at: 10,
        updated_at: 10,
    };
    let wang = store.add_user(user("wang")).await.expect("add");
    let li = store.add_user(user("li")).await.expect("add");
    assert_ne!(wang, li);
    let err = store.add_user(user("wang")).await.expect_err("taken");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let mut changed = user("wang");
    changed.id = wang;
    changed.role = "admin".into();
    changed.disabled = true;
    changed.updated_at = 20;
    store.update_user(changed).await.expect("update");
    let mut nobody = user("nobody");
    nobody.id = 9_999;
    assert!(store.update_user(nobody).await.is_err());
    let w = store
        .user_by_name("wang")
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(
        (w.id, w.role.as_str(), w.disabled, w.updated_at),
        (wang, "admin", true, 20)
    );
    assert_eq!(w.display_name, "王工");
    assert!(store.user_by_name("zhao").await.expect("read").is_none());
    let names: Vec<String> = store
        .users()
        .await
        .expect("users")
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["li", "wang"]);

    let token = |name: &str, expires_at: Option<i64>| TokenRecord {
        id: 0,
        user_id: wang,
        name: name.into(),
        prefix: format!("qs_{name}"),
        digest: format!("digest-{name}"),
        role: "operator".into(),
        created_at: 30,
        expires_at,
        revoked_at: None,
    };
    let t1 = store.add_token(token("push", None)).await.expect("token");
    let t2 = store
        .add_token(token("frost", Some(99)))
        .await
        .expect("token");
    assert!(store.revoke_token(t1, 40).await.expect("revoke"));
    assert!(
        !store.revoke_token(t1, 41).await.expect("twice"),
        "revoked once"
    );
    assert!(!store.revoke_token(9_999, 41).await.expect("missing"));
    let tokens = store.tokens().await.expect("tokens");
    assert_eq!(tokens.iter().map(|t| t.id).collect::<Vec<_>>(), [t1, t2]);
    assert_eq!(
        (tokens[0].revoked_at, tokens[0].expires_at),
        (Some(40), None)
    );
    assert_eq!(
        (tokens[1].revoked_at, tokens[1].expires_at),
        (None, Some(99))
    );

    let session = |digest: &str, expires_at: i64| SessionRecord {
        digest: digest.into(),
        user_id: li,
        csrf: format!("csrf-{digest}"),
        created_at: 50,
        expires_at,
        from_addr: "10.0.0.7".into(),
    };
    store
        .add_session(session("old", 60))
        .await
        .expect("session");
    store
        .add_session(session("live", 500))
        .await
        .expect("session");
    store
        .add_session(session("gone", 500))
        .await
        .expect("session");
    store.delete_session("gone").await.expect("delete");
    let live = store.sessions(100).await.expect("sessions");
    assert_eq!(live.len(), 1);
    assert_eq!(live[0], session("live", 500));
    // The expired one was removed on the way, not only hidden.
    assert_eq!(store.sessions(0).await.expect("sessions").len(), 1);

    let entry = |at: i64, principal: &str, action: &str| AuditRecord {
        id: 0,
        at,
        principal: principal.into(),
        action: action.into(),
        target: "alert 17".into(),
        from_addr: "10.0.0.7".into(),
        details: json!({"before": {"state": "active"}}),
    };
    store.append_audit(vec![]).await.expect("nothing");
    store
        .append_audit(vec![
            entry(100, "user:wang", "alert.ack"),
            entry(200, "user:li", "alert.clear"),
            entry(300, "user:wang", "user.add"),
            entry(400, "user:wang", "alertXack"),
        ])
        .await
        .expect("append");
    let actions = |f: AuditFilter| async move {
        store
            .audit(f)
            .await
            .expect("audit")
            .into_iter()
            .map(|e| e.action)
            .collect::<Vec<_>>()
    };
    let all = actions(AuditFilter {
        limit: 10,
        ..Default::default()
    })
    .await;
    assert_eq!(
        all,
        ["alertXack", "user.add", "alert.clear", "alert.ack"],
        "newest first"
    );
    let wang_alerts = actions(AuditFilter {
        principal: Some("user:wang".into()),
        action: Some("alert.".into()),
        limit: 10,
        ..Default::default()
    })
    .await;
    assert_eq!(
        wang_alerts,
        ["alert.ack"],
        "the prefix's '.' and '_' are literal"
    );
    let window = actions(AuditFilter {
        since: Some(200),
        until: Some(400),
        limit: 10,
        ..Default::default()
    })
    .await;
    assert_eq!(window, ["user.add", "alert.clear"]);
    assert_eq!(
        actions(AuditFilter::default()).await.len(),
        1,
        "limit at least 1"
    );
    let e = &store
        .audit(AuditFilter {
            limit: 1,
            ..Default::default()
        })
        .await
        .expect("audit")[0];
    assert_eq!(e.details["before"]["state"], json!("active"));
}

/// Reviews overlapping a range, undo once, approvals by station and day.
pub async fn review(store: &dyn ReviewStore) {
    let review = |ds: i64, start_us: i64, end_us: i64, verdict: Verdict, at: i64| ReviewRecord {
        id: 0,
        datastream_id: ds,
        start_us,
        end_us,
        verdict,
        reason: "maintenance".into(),
        note: "校准".into(),
        by: "li".into(),
        at,
        undone_at: None,
        undone_by: None,
    };
    let r1 = store
        .add_review(review(1, 0, 100, Verdict::Invalid, 10))
        .await
        .expect("add");
    let r2 = store
        .add_review(review(1, 40, 60, Verdict::Valid, 20))
        .await
        .expect("add");
    let r3 = store
        .add_review(review(2, 500, 600, Verdict::Invalid, 30))
        .await
        .expect("add");
    assert!(
        store
            .undo_review(r1, "wang".into(), 50)
            .await
            .expect("undo")
    );
    assert!(
        !store
            .undo_review(r1, "wang".into(), 51)
            .await
            .expect("twice")
    );
    assert!(
        !store
            .undo_review(9_999, "wang".into(), 51)
            .await
            .expect("missing")
    );
    let got = store.reviews(vec![1, 2], 50, 550).await.expect("reviews");
    assert_eq!(got.iter().map(|r| r.id).collect::<Vec<_>>(), [r1, r2, r3]);
    assert_eq!(
        (got[0].undone_at, got[0].undone_by.as_deref()),
        (Some(50), Some("wang"))
    );
    assert_eq!(got[1].verdict, Verdict::Valid);
    assert_eq!(got[1].note, "校准");
    // [from, to): a review starting at `to` is outside, one ending at `from` inside.
    assert!(
        store
            .reviews(vec![2], 0, 500)
            .await
            .expect("reviews")
            .is_empty()
    );
    assert_eq!(
        store
            .reviews(vec![2], 600, 700)
            .await
            .expect("reviews")
            .len(),
        1
    );
    assert_eq!(
        store.review(r2).await.expect("one").map(|r| r.start_us),
        Some(40)
    );
    assert!(store.review(9_999).await.expect("one").is_none());

    let approval = |station: &str, day: &str, at: i64| ApprovalRecord {
        id: 0,
        station: station.into(),
        day: day.into(),
        by: "li".into(),
        at,
        undone_at: None,
        undone_by: None,
    };
    let a1 = store
        .add_approval(approval("W01", "2026-03-02", 5))
        .await
        .expect("approve");
    let a2 = store
        .add_approval(approval("W01", "2026-03-01", 6))
        .await
        .expect("approve");
    store
        .add_approval(approval("W01", "2026-03-09", 7))
        .await
        .expect("approve");
    store
        .add_approval(approval("R01", "2026-03-01", 8))
        .await
        .expect("approve");
    assert!(
        store
            .undo_approval(a1, "wang".into(), 9)
            .await
            .expect("undo")
    );
    assert!(
        !store
            .undo_approval(a1, "wang".into(), 9)
            .await
            .expect("twice")
    );
    let got = store
        .approvals("W01".into(), "2026-03-01".into(), "2026-03-02".into())
        .await
        .expect("approvals");
    assert_eq!(
        got.iter().map(|a| a.id).collect::<Vec<_>>(),
        [a2, a1],
        "by day"
    );
    assert_eq!(got[1].undone_at, Some(9));
}
