mod common;

use common::*;
use easd_store::*;

#[test]
fn create_rename_move_delete_folders() {
    let (_d, store) = open();
    let a = account(&store, "a@example.com");
    let inbox = inbox(&store, a.id);
    let base = store.account_modseq(a.id).unwrap();

    let work = store.create_folder(a.id, "0", "Work", 12).unwrap();
    assert_eq!(work.server_id, "11");
    assert_eq!(work.parent_server_id, "0");
    assert!(!work.is_default);
    let sub = store
        .create_folder(a.id, &work.server_id, "Projects", 12)
        .unwrap();
    assert_eq!(sub.parent_server_id, work.server_id);

    // Distinct errors for FolderCreate statuses.
    assert!(matches!(
        store.create_folder(a.id, "0", "work", 12),
        Err(StoreError::AlreadyExists("folder"))
    ));
    assert!(matches!(
        store.create_folder(a.id, "999", "X", 12),
        Err(StoreError::NotFound("parent folder"))
    ));
    assert!(matches!(
        store.create_folder(a.id, "0", " ", 12),
        Err(StoreError::Invalid(_))
    ));
    // Same name under another parent is fine.
    store
        .create_folder(a.id, &inbox.server_id, "Projects", 12)
        .unwrap();

    let fc = store.folder_changes_since(a.id, base).unwrap();
    let names: Vec<&str> = fc.changed.iter().map(|f| f.display_name.as_str()).collect();
    assert_eq!(names, vec!["Work", "Projects", "Projects"]);
    let base2 = fc.modseq;

    // Rename.
    let renamed = store
        .update_folder(a.id, work.id, "0", "Work stuff")
        .unwrap();
    assert_eq!(renamed.server_id, work.server_id);
    assert!(renamed.modseq > base2);
    // Move under Inbox.
    let moved = store
        .update_folder(a.id, sub.id, &inbox.server_id, "Projects2")
        .unwrap();
    assert_eq!(moved.parent_server_id, inbox.server_id);
    // Errors for FolderUpdate.
    assert!(matches!(
        store.update_folder(a.id, inbox.id, "0", "Posteingang"),
        Err(StoreError::SpecialFolder(_))
    ));
    assert!(matches!(
        store.update_folder(a.id, work.id, "0", "inbox"),
        Err(StoreError::AlreadyExists("folder"))
    ));
    assert!(matches!(
        store.update_folder(a.id, work.id, &work.server_id, "x"),
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.update_folder(a.id, work.id, "4242", "x"),
        Err(StoreError::NotFound("parent folder"))
    ));
    assert!(matches!(
        store.update_folder(a.id, FolderId(4242), "0", "x"),
        Err(StoreError::NotFound("folder"))
    ));

    let fc = store.folder_changes_since(a.id, base2).unwrap();
    let ids: Vec<&str> = fc.changed.iter().map(|f| f.server_id.as_str()).collect();
    assert_eq!(ids, vec![work.server_id.as_str(), sub.server_id.as_str()]);
    let base3 = fc.modseq;

    // Delete a tree: Work with a child; leaves tombstones for both, items go.
    let child = store
        .create_folder(a.id, &work.server_id, "Child", 12)
        .unwrap();
    let it = store.add_item(a.id, mail(child.id, "c", 1)).unwrap();
    let deleted = store.delete_folder(a.id, work.id).unwrap();
    assert_eq!(deleted.len(), 2);
    assert!(store.folder(a.id, child.id).unwrap().is_none());
    assert!(store.item(a.id, it.id).unwrap().is_none());
    let fc = store.folder_changes_since(a.id, base3).unwrap();
    // Child was created after base3: the device never saw it, so no Delete for it.
    assert_eq!(fc.deleted, vec![work.server_id.clone()]);
    assert!(fc.changed.is_empty());
    assert!(matches!(
        store.delete_folder(a.id, inbox.id),
        Err(StoreError::SpecialFolder(_))
    ));
    assert!(store
        .delete_folder(a.id, work.id)
        .unwrap_err()
        .is_not_found());
    // Folder server ids are never reused.
    let again = store.create_folder(a.id, "0", "Work", 12).unwrap();
    assert!(again.server_id.parse::<i64>().unwrap() > child.server_id.parse::<i64>().unwrap());
}

#[test]
fn changes_list_parents_before_children() {
    let (_d, store) = open();
    let a = account(&store, "a@example.com");
    let base = store.account_modseq(a.id).unwrap();
    let old = store.create_folder(a.id, "0", "Old", 12).unwrap();
    let newer = store.create_folder(a.id, "0", "Newer", 12).unwrap();
    // Move the older folder under the newer one: creation order no longer works.
    store
        .update_folder(a.id, old.id, &newer.server_id, "Old")
        .unwrap();
    let fc = store.folder_changes_since(a.id, base).unwrap();
    let ids: Vec<&str> = fc.changed.iter().map(|f| f.server_id.as_str()).collect();
    assert_eq!(ids, vec![newer.server_id.as_str(), old.server_id.as_str()]);
}

#[test]
fn folder_queries_are_scoped_by_account() {
    let (_d, store) = open();
    let a = account(&store, "a@example.com");
    let b = account(&store, "b@example.com");
    let fa = store.create_folder(a.id, "0", "Mine", 12).unwrap();
    assert!(store
        .folder_by_server_id(b.id, &fa.server_id)
        .unwrap()
        .is_none());
    assert!(store.delete_folder(b.id, fa.id).unwrap_err().is_not_found());
    assert!(store
        .update_folder(b.id, fa.id, "0", "x")
        .unwrap_err()
        .is_not_found());
    assert!(store.folder_modseq(b.id, fa.id).unwrap_err().is_not_found());
    // b can't create under a's folder by its server id: b has its own "11"? No, not yet.
    assert!(matches!(
        store.create_folder(b.id, &fa.server_id, "x", 12),
        Err(StoreError::NotFound("parent folder"))
    ));
}
