mod common;

use common::*;
use easd_store::password::{hash_password, verify_password};
use easd_store::*;

#[test]
fn create_account_makes_default_folders() {
    let (_d, store) = open();
    let a = account(&store, "  Alice@Example.COM ");
    assert_eq!(a.email, "alice@example.com");
    let folders = store.folders(a.id).unwrap();
    let got: Vec<(&str, &str, &str, i32, bool)> = folders
        .iter()
        .map(|f| {
            (
                f.server_id.as_str(),
                f.parent_server_id.as_str(),
                f.display_name.as_str(),
                f.folder_type,
                f.is_default,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("1", "0", "Inbox", 2, true),
            ("2", "0", "Drafts", 3, true),
            ("3", "0", "Deleted Items", 4, true),
            ("4", "0", "Sent Items", 5, true),
            ("5", "0", "Outbox", 6, true),
            ("6", "0", "Tasks", 7, true),
            ("7", "0", "Calendar", 8, true),
            ("8", "0", "Contacts", 9, true),
            ("9", "0", "Notes", 10, true),
            ("10", "0", "Junk E-Mail", 12, true),
        ]
    );
    assert_eq!(store.account_modseq(a.id).unwrap(), Modseq(10));
    let fc = store.folder_changes_since(a.id, Modseq(0)).unwrap();
    assert_eq!(fc.changed.len(), 10);
    assert!(fc.deleted.is_empty());
    assert_eq!(fc.modseq, Modseq(10));

    assert_eq!(
        store
            .account_by_email("ALICE@example.com")
            .unwrap()
            .unwrap()
            .id,
        a.id
    );
    assert!(store.account_by_email("bob@example.com").unwrap().is_none());
    assert!(matches!(
        store.create_account("alice@example.com", "x"),
        Err(StoreError::AlreadyExists("account"))
    ));
    assert_eq!(store.list_accounts().unwrap().len(), 1);
}

#[test]
fn password_hash_and_verify() {
    let phc = hash_password("correct horse");
    assert!(phc.starts_with("$argon2id$"));
    assert!(verify_password("correct horse", &phc));
    assert!(!verify_password("wrong", &phc));
    assert!(!verify_password("correct horse", "not a phc string"));
    // Salted: two hashes of one password differ.
    assert_ne!(phc, hash_password("correct horse"));
}

#[test]
fn set_password_bumps_generation() {
    let (_d, store) = open();
    let a = account(&store, "a@example.com");
    let g = store.set_password(a.id, "$argon2id$new").unwrap();
    assert!(g > a.credential_generation);
    let a2 = store.account(a.id).unwrap().unwrap();
    assert_eq!(a2.credential_generation, g);
    assert_eq!(a2.password_hash, "$argon2id$new");
    assert!(store
        .set_password(AccountId(999), "x")
        .unwrap_err()
        .is_not_found());
}

#[test]
fn aliases_and_display_name() {
    let (_d, store) = open();
    let a = account(&store, "a@example.com");
    let b = account(&store, "b@example.com");
    store.add_alias(a.id, "Sales@Example.com").unwrap();
    store.set_display_name(a.id, "Alice").unwrap();
    let got = store
        .account_by_address("sales@example.com")
        .unwrap()
        .unwrap();
    assert_eq!(got.id, a.id);
    assert_eq!(got.aliases, vec!["sales@example.com".to_string()]);
    assert_eq!(got.display_name, "Alice");
    assert!(matches!(
        store.add_alias(b.id, "sales@example.com"),
        Err(StoreError::AlreadyExists(_))
    ));
    assert!(matches!(
        store.add_alias(b.id, "a@example.com"),
        Err(StoreError::AlreadyExists(_))
    ));
    assert!(matches!(
        store.create_account("sales@example.com", "x"),
        Err(StoreError::AlreadyExists(_))
    ));
    store.remove_alias(a.id, "sales@example.com").unwrap();
    assert!(store
        .account_by_address("sales@example.com")
        .unwrap()
        .is_none());
}

#[test]
fn remove_account_cascades() {
    let (_d, store) = open();
    let a = account(&store, "a@example.com");
    let b = account(&store, "b@example.com");
    let inbox_a = inbox(&store, a.id);
    let inbox_b = inbox(&store, b.id);
    let item = store.add_item(a.id, mail(inbox_a.id, "hi", 1)).unwrap();
    let gone = store.add_item(a.id, mail(inbox_a.id, "bye", 2)).unwrap();
    store.delete_item(a.id, gone.id).unwrap();
    store.add_item(b.id, mail(inbox_b.id, "b's", 1)).unwrap();
    let p = store
        .create_partnership(a.id, "DEV1", "iPhone", "Apple-iPhone/1")
        .unwrap();
    store.put_sync_state(p.id, "1", 1, b"state").unwrap();
    store.set_oof(a.id, Some("{}")).unwrap();
    store.add_alias(a.id, "alias@example.com").unwrap();
    store
        .add_device_log(&NewDeviceLog {
            account: Some(a.id),
            device_id: "DEV1".into(),
            partnership: Some(p.id),
            at: 1,
            command: "Sync".into(),
            ..Default::default()
        })
        .unwrap();
    let before = store.change_counter().unwrap();

    store.remove_account(a.id).unwrap();

    assert!(store.account(a.id).unwrap().is_none());
    assert!(store.folders(a.id).unwrap().is_empty());
    assert!(store.item(a.id, item.id).unwrap().is_none());
    assert!(store.partnership(a.id, "DEV1").unwrap().is_none());
    assert!(store.partnership_by_id(p.id).unwrap().is_none());
    assert!(store.sync_state(p.id, "1", 1).unwrap().is_none());
    assert!(store.oof(a.id).unwrap().is_none());
    assert!(store
        .account_by_address("alias@example.com")
        .unwrap()
        .is_none());
    assert!(store.device_logs(None, None, 10).unwrap().is_empty());
    // The other account is untouched.
    assert_eq!(
        store
            .list_folder_items(b.id, inbox_b.id)
            .unwrap()
            .items
            .len(),
        1
    );
    // Parked Pings of the removed account are woken.
    let ch = store.accounts_changed_since(before).unwrap();
    assert!(ch.accounts.iter().any(|c| c.account == a.id && c.hierarchy));
    assert!(store.remove_account(a.id).unwrap_err().is_not_found());
    // Re-creating the address gives a new id and a new generation.
    let a2 = account(&store, "a@example.com");
    assert_ne!(a2.id, a.id);
    assert_ne!(a2.credential_generation, a.credential_generation);
    assert!(store.partnership(a2.id, "DEV1").unwrap().is_none());
}
