mod common;

use common::*;
use easd_store::*;

#[test]
fn partnership_get_or_create_and_update() {
    let (_d, store) = open();
    let a = account(&store, "a@example.com");
    let b = account(&store, "b@example.com");
    assert!(store.partnership(a.id, "DEV1").unwrap().is_none());
    let p = store
        .create_partnership(a.id, "DEV1", "iPhone", "Apple-iPhone9C1/1")
        .unwrap();
    assert_eq!(p.device_type, "iPhone");
    assert_eq!(p.access_state, AccessState::Allowed);
    assert_eq!(p.wipe_state, WipeState::None);
    assert_eq!(p.policy_key, 0);
    // Get-or-create returns the existing row unchanged.
    let again = store
        .create_partnership(a.id, "DEV1", "Other", "Other/1")
        .unwrap();
    assert_eq!(again, p);
    // The same device with another account is another partnership.
    let pb = store
        .create_partnership(b.id, "DEV1", "iPhone", "Apple-iPhone9C1/1")
        .unwrap();
    assert_ne!(pb.id, p.id);
    assert_eq!(store.partnerships_by_device_id("DEV1").unwrap().len(), 2);
    assert_eq!(store.list_partnerships(Some(a.id)).unwrap().len(), 1);
    assert_eq!(store.list_partnerships(None).unwrap().len(), 2);
    assert!(store
        .create_partnership(AccountId(999), "X", "", "")
        .unwrap_err()
        .is_not_found());

    // Routine bookkeeping does not advance the change counter.
    let c0 = store.change_counter().unwrap();
    let mut u = p.clone();
    u.protocol_version = "16.1".into();
    u.model = "iPhone12,1".into();
    u.imei = "123".into();
    u.friendly_name = "Al's phone".into();
    u.os = "iOS 17".into();
    u.os_language = "en".into();
    u.phone_number = "+1".into();
    u.mobile_operator = "Op".into();
    u.last_ping = Some(22);
    u.last_heartbeat = Some(900);
    u.policy_status = 1;
    u.provisioned_policy = "default".into();
    u.provisioned_at = Some(19);
    u.ping_folders = serde_json::json!(["1", "7"]);
    u.ping_heartbeat = 900;
    store.update_partnership(&u).unwrap();
    assert_eq!(store.change_counter().unwrap(), c0);
    assert_eq!(store.partnership_by_id(p.id).unwrap().unwrap(), u);

    // A decision about the device is announced.
    u.access_state = AccessState::Blocked;
    u.access_reason = "rule 3: DeviceType iPhone".into();
    u.wipe_state = WipeState::PendingAccount;
    u.wipe_requested_at = Some(30);
    u.policy_key = 12345;
    store.update_partnership(&u).unwrap();
    assert_eq!(store.partnership(a.id, "DEV1").unwrap().unwrap(), u);
    // A new policy key alone is the device's own handshake: no event.
    let c1 = store.change_counter().unwrap();
    u.policy_key = 777;
    store.update_partnership(&u).unwrap();
    assert_eq!(store.change_counter().unwrap(), c1);
    let ch = store.accounts_changed_since(c0).unwrap();
    assert_eq!(ch.accounts.len(), 1);
    assert_eq!(ch.accounts[0].partnerships, vec![p.id]);

    // Statistics are added in place and survive a whole-row write from a stale copy.
    let stale = store.partnership_by_id(p.id).unwrap().unwrap();
    let at = |at, synced, sent, received, error: Option<&str>| PartnershipActivity {
        at,
        synced,
        items_sent: sent,
        items_received: received,
        error: error.map(str::to_owned),
    };
    store
        .record_partnership_activity(p.id, &at(100, true, 5, 1, None))
        .unwrap();
    store
        .record_partnership_activity(p.id, &at(110, false, 0, 0, Some("Sync: Status 3")))
        .unwrap();
    store
        .record_partnership_activity(p.id, &at(120, true, 2, 0, None))
        .unwrap();
    store.update_partnership(&stale).unwrap();
    let s = store.partnership_by_id(p.id).unwrap().unwrap();
    assert_eq!(
        (s.first_sync, s.last_sync, s.last_sync_attempt),
        (Some(100), Some(120), Some(120))
    );
    assert_eq!((s.items_sent, s.items_received), (7, 1));
    assert_eq!(
        (s.last_error.as_str(), s.last_error_at),
        ("Sync: Status 3", Some(110))
    );
    assert!(store
        .record_partnership_activity(PartnershipId(999), &at(1, true, 0, 0, None))
        .unwrap_err()
        .is_not_found());

    // update_partnership can't move a row to another account.
    let mut wrong = u.clone();
    wrong.account = b.id;
    assert!(store.update_partnership(&wrong).unwrap_err().is_not_found());
}

#[test]
fn sync_states_keep_newest_two_keys() {
    let (_d, store) = open();
    let a = account(&store, "a@example.com");
    let p = store.create_partnership(a.id, "DEV1", "t", "u").unwrap();
    for key in 1..=5 {
        store
            .put_sync_state(p.id, "1", key, format!("s{key}").as_bytes())
            .unwrap();
    }
    store.put_sync_state(p.id, "folders", 1, b"f1").unwrap();
    assert_eq!(store.sync_state(p.id, "1", 5).unwrap().unwrap(), b"s5");
    assert_eq!(store.sync_state(p.id, "1", 4).unwrap().unwrap(), b"s4");
    for key in 1..=3 {
        assert!(store.sync_state(p.id, "1", key).unwrap().is_none());
    }
    assert_eq!(
        store.latest_sync_state(p.id, "1").unwrap().unwrap(),
        (5, b"s5".to_vec())
    );
    // The client resent key 4 (lost response): the state behind 5 is rewritten.
    store.put_sync_state(p.id, "1", 5, b"s5b").unwrap();
    assert_eq!(store.sync_state(p.id, "1", 4).unwrap().unwrap(), b"s4");
    assert_eq!(store.sync_state(p.id, "1", 5).unwrap().unwrap(), b"s5b");
    // A reset back to key 1 drops the higher keys too.
    store.put_sync_state(p.id, "1", 1, b"r1").unwrap();
    assert_eq!(
        store.latest_sync_state(p.id, "1").unwrap().unwrap(),
        (1, b"r1".to_vec())
    );
    assert!(store.sync_state(p.id, "1", 5).unwrap().is_none());
    // Other collections are independent.
    assert_eq!(
        store.sync_state(p.id, "folders", 1).unwrap().unwrap(),
        b"f1"
    );
    assert_eq!(
        store.sync_state_keys(p.id).unwrap(),
        vec![("1".to_string(), 1), ("folders".to_string(), 1)]
    );

    store.delete_sync_states(p.id, Some("1")).unwrap();
    assert!(store.latest_sync_state(p.id, "1").unwrap().is_none());
    assert!(store.latest_sync_state(p.id, "folders").unwrap().is_some());
    store.delete_sync_states(p.id, None).unwrap();
    assert!(store.sync_state_keys(p.id).unwrap().is_empty());

    assert!(store
        .put_sync_state(PartnershipId(999), "1", 1, b"x")
        .unwrap_err()
        .is_not_found());
}

#[test]
fn remove_partnership_drops_sync_states() {
    let (_d, store) = open();
    let a = account(&store, "a@example.com");
    let p = store.create_partnership(a.id, "DEV1", "t", "u").unwrap();
    store.put_sync_state(p.id, "1", 1, b"x").unwrap();
    let log = store
        .add_device_log(&NewDeviceLog {
            account: Some(a.id),
            device_id: "DEV1".into(),
            partnership: Some(p.id),
            at: 5,
            command: "Sync".into(),
            request_xml: "<Sync/>".into(),
            response_xml: "<Sync/>".into(),
            meta: serde_json::json!({"status": 1}),
        })
        .unwrap();
    store.remove_partnership(p.id).unwrap();
    assert!(store.sync_state(p.id, "1", 1).unwrap().is_none());
    assert!(store.partnership(a.id, "DEV1").unwrap().is_none());
    // Logs stay (they explain what happened), unlinked from the removed row.
    let logs = store.device_logs(Some(a.id), Some("DEV1"), 10).unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].id, log);
    assert_eq!(logs[0].entry.partnership, None);
    // Re-adding starts clean.
    let p2 = store.create_partnership(a.id, "DEV1", "t", "u").unwrap();
    assert_ne!(p2.id, p.id);
    assert!(store.latest_sync_state(p2.id, "1").unwrap().is_none());
    assert!(store.remove_partnership(p.id).unwrap_err().is_not_found());
}

#[test]
fn device_logs_filter_and_prune() {
    let (_d, store) = open();
    let a = account(&store, "a@example.com");
    for (i, dev) in ["D1", "D2", "D1"].iter().enumerate() {
        store
            .add_device_log(&NewDeviceLog {
                account: Some(a.id),
                device_id: dev.to_string(),
                at: 100 + i as i64,
                command: format!("c{i}"),
                ..Default::default()
            })
            .unwrap();
    }
    store
        .add_device_log(&NewDeviceLog {
            account: None,
            device_id: "D9".into(),
            at: 200,
            command: "auth-failed".into(),
            ..Default::default()
        })
        .unwrap();
    let d1 = store.device_logs(Some(a.id), Some("D1"), 10).unwrap();
    assert_eq!(
        d1.iter()
            .map(|l| l.entry.command.as_str())
            .collect::<Vec<_>>(),
        vec!["c2", "c0"],
        "newest first"
    );
    assert_eq!(store.device_logs(None, None, 10).unwrap().len(), 4);
    assert_eq!(store.device_logs(None, None, 2).unwrap().len(), 2);
    assert_eq!(store.device_logs(None, Some("D9"), 10).unwrap().len(), 1);
    assert_eq!(store.prune_device_logs(102).unwrap(), 2);
    assert_eq!(store.device_logs(None, None, 10).unwrap().len(), 2);
}

#[test]
fn oof_and_kv() {
    let (_d, store) = open();
    let a = account(&store, "a@example.com");
    assert!(store.oof(a.id).unwrap().is_none());
    store.set_oof(a.id, Some(r#"{"state":1}"#)).unwrap();
    store.set_oof(a.id, Some(r#"{"state":2}"#)).unwrap();
    assert_eq!(store.oof(a.id).unwrap().unwrap(), r#"{"state":2}"#);
    store.set_oof(a.id, None).unwrap();
    assert!(store.oof(a.id).unwrap().is_none());
    assert!(store
        .set_oof(AccountId(999), Some("{}"))
        .unwrap_err()
        .is_not_found());

    let c0 = store.change_counter().unwrap();
    store.kv_set("access.rules", "[]").unwrap();
    store.kv_set("access.default", "allow").unwrap();
    store.kv_set("policy.default", "{}").unwrap();
    store.kv_set("access.rules", "[1]").unwrap();
    assert_eq!(store.kv_get("access.rules").unwrap().unwrap(), "[1]");
    assert_eq!(
        store.kv_list("access.").unwrap(),
        vec![
            ("access.default".to_string(), "allow".to_string()),
            ("access.rules".to_string(), "[1]".to_string()),
        ]
    );
    assert_eq!(store.kv_list("").unwrap().len(), 3);
    let ch = store.accounts_changed_since(c0).unwrap();
    assert!(ch.settings);
    assert!(ch.accounts.is_empty());
    assert!(store.kv_delete("policy.default").unwrap());
    assert!(!store.kv_delete("policy.default").unwrap());
    assert!(store.kv_get("policy.default").unwrap().is_none());
}
