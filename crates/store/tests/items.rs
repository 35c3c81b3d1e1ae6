mod common;

use common::*;
use easd_store::*;

#[test]
fn add_list_move_delete_modseqs_and_tombstones() {
    let (_d, store) = open();
    let a = account(&store, "a@example.com");
    let inbox = inbox(&store, a.id);
    let trash = store
        .default_folder(a.id, folder_type::DELETED_ITEMS)
        .unwrap()
        .unwrap();
    let base = store.account_modseq(a.id).unwrap();
    assert_eq!(store.folder_modseq(a.id, inbox.id).unwrap(), Modseq(0));

    let i1 = store.add_item(a.id, mail(inbox.id, "one", 100)).unwrap();
    let i2 = store.add_item(a.id, mail(inbox.id, "two", 200)).unwrap();
    assert_eq!(i1.server_id, "1:1");
    assert_eq!(i2.server_id, "1:2");
    assert_eq!(i1.modseq, Modseq(base.0 + 1));
    assert_eq!(i2.modseq, Modseq(base.0 + 2));
    assert_eq!(i1.fields.size, i1_content_len(&store, &a, &i1));
    assert_eq!(store.folder_modseq(a.id, inbox.id).unwrap(), i2.modseq);

    let list = store.list_folder_items(a.id, inbox.id).unwrap();
    assert_eq!(list.modseq, i2.modseq);
    let sids: Vec<&str> = list.items.iter().map(|s| s.server_id.as_str()).collect();
    assert_eq!(sids, vec!["1:2", "1:1"], "newest first");
    let baseline = list.modseq;

    // Mark read: a change, same server id.
    let r = store
        .update_item(
            a.id,
            i1.id,
            &ItemChange {
                read: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(r.fields.read);
    assert!(r.modseq > baseline);
    assert_eq!(r.server_id, i1.server_id);
    // Setting it again changes nothing and bumps nothing.
    let again = store
        .update_item(
            a.id,
            i1.id,
            &ItemChange {
                read: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(again.modseq, r.modseq);

    // Move i2 to trash: tombstone in inbox, new server id in trash.
    let moved = store.move_item(a.id, i2.id, trash.id).unwrap();
    assert_eq!(moved.id, i2.id);
    assert_eq!(moved.folder, trash.id);
    assert!(moved
        .server_id
        .starts_with(&format!("{}:", trash.server_id)));
    assert!(store
        .item_by_server_id(a.id, &i2.server_id)
        .unwrap()
        .is_none());
    assert_eq!(
        store
            .item_by_server_id(a.id, &moved.server_id)
            .unwrap()
            .unwrap()
            .id,
        i2.id
    );
    assert_eq!(store.folder_modseq(a.id, inbox.id).unwrap(), moved.modseq);
    assert_eq!(store.folder_modseq(a.id, trash.id).unwrap(), moved.modseq);
    assert!(matches!(
        store.move_item(a.id, i2.id, trash.id),
        Err(StoreError::Invalid(_))
    ));

    let ch = store.changed_since(a.id, inbox.id, baseline).unwrap();
    assert_eq!(
        ch.changed
            .iter()
            .map(|s| s.server_id.as_str())
            .collect::<Vec<_>>(),
        vec!["1:1"]
    );
    assert!(
        ch.changed[0].created_modseq <= baseline,
        "a change, not an add"
    );
    assert_eq!(ch.deleted, vec!["1:2".to_string()]);
    assert_eq!(ch.modseq, moved.modseq);
    assert!(!ch.truncated);

    let ch_trash = store.changed_since(a.id, trash.id, Modseq(0)).unwrap();
    assert_eq!(ch_trash.changed.len(), 1);
    assert!(ch_trash.deleted.is_empty());

    // Delete i1: tombstone.
    store.delete_item(a.id, i1.id).unwrap();
    assert!(store.item(a.id, i1.id).unwrap().is_none());
    assert!(store.item_content(a.id, i1.id).unwrap_err().is_not_found());
    let ch = store.changed_since(a.id, inbox.id, baseline).unwrap();
    assert!(ch.changed.is_empty());
    assert_eq!(ch.deleted, vec!["1:2".to_string(), "1:1".to_string()]);
    assert!(store
        .list_folder_items(a.id, inbox.id)
        .unwrap()
        .items
        .is_empty());
    // Nothing new since the latest modseq.
    let ch = store.changed_since(a.id, inbox.id, ch.modseq).unwrap();
    assert!(ch.changed.is_empty() && ch.deleted.is_empty());
}

fn i1_content_len(store: &SqliteStore, a: &Account, i: &Item) -> i64 {
    store.item_content(a.id, i.id).unwrap().len() as i64
}

#[test]
fn added_and_deleted_after_baseline_is_not_reported() {
    let (_d, store) = open();
    let a = account(&store, "a@example.com");
    let inbox = inbox(&store, a.id);
    let baseline = store.folder_modseq(a.id, inbox.id).unwrap();
    let i = store.add_item(a.id, mail(inbox.id, "x", 1)).unwrap();
    store.delete_item(a.id, i.id).unwrap();
    let ch = store.changed_since(a.id, inbox.id, baseline).unwrap();
    assert!(ch.changed.is_empty());
    assert!(ch.deleted.is_empty());
}

#[test]
fn other_accounts_server_ids_are_not_found() {
    let (_d, store) = open();
    let a = account(&store, "a@example.com");
    let b = account(&store, "b@example.com");
    let inbox_a = inbox(&store, a.id);
    let inbox_b = inbox(&store, b.id);
    let item = store.add_item(a.id, mail(inbox_a.id, "secret", 1)).unwrap();

    // Same server id string exists in b's namespace only if b has such an item: it doesn't.
    assert!(store
        .item_by_server_id(b.id, &item.server_id)
        .unwrap()
        .is_none());
    assert!(store.item(b.id, item.id).unwrap().is_none());
    assert!(store
        .item_content(b.id, item.id)
        .unwrap_err()
        .is_not_found());
    assert!(store.items_full(b.id, &[item.id]).unwrap().is_empty());
    assert!(store.delete_item(b.id, item.id).unwrap_err().is_not_found());
    assert!(store
        .move_item(b.id, item.id, inbox_b.id)
        .unwrap_err()
        .is_not_found());
    // Moving into another account's folder is also not found.
    assert!(store
        .move_item(a.id, item.id, inbox_b.id)
        .unwrap_err()
        .is_not_found());
    assert!(store
        .update_item(b.id, item.id, &ItemChange::default())
        .unwrap_err()
        .is_not_found());
    assert!(store
        .list_folder_items(b.id, inbox_a.id)
        .unwrap_err()
        .is_not_found());
    assert!(store
        .add_item(b.id, mail(inbox_a.id, "x", 1))
        .unwrap_err()
        .is_not_found());
    assert!(store.folder(b.id, inbox_a.id).unwrap().is_none());
    // b's own item with b's counter may reuse the same server id string: still b's.
    let bi = store.add_item(b.id, mail(inbox_b.id, "b", 1)).unwrap();
    assert_eq!(bi.server_id, item.server_id);
    let got = store
        .item_by_server_id(b.id, &bi.server_id)
        .unwrap()
        .unwrap();
    assert_eq!(got.id, bi.id);
    assert_eq!(got.fields.subject, "b");
    // And a's item is still a's.
    assert_eq!(
        store.item(a.id, item.id).unwrap().unwrap().fields.subject,
        "secret"
    );
}

#[test]
fn fields_roundtrip_and_full_items() {
    let (_d, store) = open();
    let a = account(&store, "a@example.com");
    let inbox = inbox(&store, a.id);
    let mut new = mail(inbox.id, "fields", 42);
    new.fields.cc = "c@example.com".into();
    new.fields.flag_status = 2;
    new.fields.importance = 2;
    new.fields.message_class = "IPM.Note".into();
    new.fields.categories = vec!["Red".into(), "Work".into()];
    new.fields.conversation_id = Some(vec![1, 2, 3, 4]);
    new.fields.has_attachments = true;
    new.fields.uid = Some("<m1@example.com>".into());
    new.fields.extra = serde_json::json!({"reply_to": "r@example.com"});
    let item = store.add_item(a.id, new.clone()).unwrap();
    let got = store.item(a.id, item.id).unwrap().unwrap();
    assert_eq!(got, item);
    assert_eq!(got.fields.categories, new.fields.categories);
    assert_eq!(got.fields.extra["reply_to"], "r@example.com");

    let full = store.items_full(a.id, &[item.id, ItemId(999_999)]).unwrap();
    assert_eq!(full.len(), 1);
    assert_eq!(full[0].content, new.content);
    assert_eq!(full[0].item, item);

    let by_uid = store.items_by_uid(a.id, "<m1@example.com>").unwrap();
    assert_eq!(by_uid.len(), 1);

    // Replace content and fields (a calendar-style change).
    let mut f2 = item.fields.clone();
    f2.subject = "changed".into();
    f2.size = 0;
    let changed = store
        .update_item(
            a.id,
            item.id,
            &ItemChange {
                replace: Some((b"new content".to_vec(), f2)),
                categories: Some(vec![]),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(changed.fields.subject, "changed");
    assert!(changed.fields.categories.is_empty());
    assert_eq!(changed.fields.size, 11);
    assert_eq!(store.item_content(a.id, item.id).unwrap(), b"new content");
}

#[test]
fn deliver_goes_to_inbox() {
    let (_d, store) = open();
    let a = account(&store, "a@example.com");
    let inbox = inbox(&store, a.id);
    let before = store.change_counter().unwrap();
    let item = store
        .deliver(
            a.id,
            b"Subject: hi\r\n\r\nx".to_vec(),
            ItemFields::default(),
        )
        .unwrap();
    assert_eq!(item.folder, inbox.id);
    assert_eq!(item.class, ItemClass::Email);
    let ch = store.accounts_changed_since(before).unwrap();
    assert_eq!(ch.accounts.len(), 1);
    assert_eq!(ch.accounts[0].account, a.id);
    assert_eq!(ch.accounts[0].folders, vec![inbox.id]);
    assert!(!ch.accounts[0].hierarchy);
    assert!(ch.counter > before);
}

#[test]
fn bulk_add_and_empty_folder() {
    let (_d, store) = open();
    let a = account(&store, "a@example.com");
    let inbox = inbox(&store, a.id);
    let items: Vec<NewItem> = (0..10_000)
        .map(|i| mail(inbox.id, &format!("m{i}"), 1_000_000 + i))
        .collect();
    let added = store.add_items(a.id, items).unwrap();
    assert_eq!(added.len(), 10_000);
    let list = store.list_folder_items(a.id, inbox.id).unwrap();
    assert_eq!(list.items.len(), 10_000);
    assert_eq!(list.items[0].date_received, 1_000_000 + 9_999);
    assert_eq!(list.modseq, added.last().unwrap().modseq);

    // A bad folder in a bulk import rolls back the whole batch.
    let bad = vec![mail(inbox.id, "ok", 1), mail(FolderId(424_242), "bad", 1)];
    assert!(store.add_items(a.id, bad).unwrap_err().is_not_found());
    assert_eq!(
        store.list_folder_items(a.id, inbox.id).unwrap().items.len(),
        10_000
    );

    let sub = store
        .create_folder(a.id, &inbox.server_id, "Sub", 12)
        .unwrap();
    store.add_item(a.id, mail(sub.id, "in sub", 1)).unwrap();
    let baseline = store.folder_modseq(a.id, inbox.id).unwrap();
    let fbase = store.account_modseq(a.id).unwrap();
    assert_eq!(store.empty_folder(a.id, inbox.id, true).unwrap(), 10_000);
    assert!(store
        .list_folder_items(a.id, inbox.id)
        .unwrap()
        .items
        .is_empty());
    let ch = store.changed_since(a.id, inbox.id, baseline).unwrap();
    assert_eq!(ch.deleted.len(), 10_000);
    assert!(store.folder(a.id, sub.id).unwrap().is_none());
    let fc = store.folder_changes_since(a.id, fbase).unwrap();
    assert_eq!(fc.deleted, vec![sub.server_id.clone()]);
}

#[test]
fn tombstone_pruning_is_reported() {
    let (_d, store) = open();
    let a = account(&store, "a@example.com");
    let inbox = inbox(&store, a.id);
    let i = store.add_item(a.id, mail(inbox.id, "x", 1)).unwrap();
    let base = store.folder_modseq(a.id, inbox.id).unwrap();
    store.delete_item(a.id, i.id).unwrap();
    let now = store.folder_modseq(a.id, inbox.id).unwrap();
    assert_eq!(store.prune_item_tombstones(a.id, inbox.id, now).unwrap(), 1);
    let ch = store.changed_since(a.id, inbox.id, base).unwrap();
    assert!(ch.truncated);
    assert!(ch.deleted.is_empty());
    assert!(!store.changed_since(a.id, inbox.id, now).unwrap().truncated);
}

#[test]
fn update_items_is_one_transaction_all_or_nothing() {
    let (_d, store) = open();
    let a = account(&store, "a@example.com");
    let b = account(&store, "b@example.com");
    let inbox = inbox(&store, a.id);
    let i1 = store.add_item(a.id, mail(inbox.id, "one", 100)).unwrap();
    let i2 = store.add_item(a.id, mail(inbox.id, "two", 200)).unwrap();
    let other = store
        .add_item(b.id, mail(self::inbox(&store, b.id).id, "b's", 300))
        .unwrap();
    let read = ItemChange {
        read: Some(true),
        ..Default::default()
    };

    // Another account's item fails the whole batch: i1 stays unread.
    assert!(store
        .update_items(a.id, &[(i1.id, read.clone()), (other.id, read.clone())])
        .is_err());
    assert!(!store.item(a.id, i1.id).unwrap().unwrap().fields.read);

    let updated = store
        .update_items(a.id, &[(i1.id, read.clone()), (i2.id, read)])
        .unwrap();
    assert!(updated.iter().all(|i| i.fields.read));
    assert!(updated[1].modseq > updated[0].modseq);
    assert_eq!(
        store.folder_modseq(a.id, inbox.id).unwrap(),
        updated[1].modseq
    );
}
