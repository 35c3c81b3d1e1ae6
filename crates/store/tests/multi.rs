//! Several handles on one file, as the server and `easd deliver` are; reopening.

mod common;

use std::sync::Arc;

use common::*;
use easd_store::*;

#[test]
fn two_handles_see_each_others_writes() {
    let dir = tempfile::tempdir().unwrap();
    let server = SqliteStore::open_data_dir(dir.path()).unwrap();
    let deliver = SqliteStore::open_data_dir(dir.path()).unwrap();

    let a = account(&server, "a@example.com");
    let inbox = inbox(&server, a.id);
    let seen = server.change_counter().unwrap();
    assert_eq!(deliver.change_counter().unwrap(), seen);

    // "easd deliver" writes through its own handle...
    let item = deliver
        .deliver(
            deliver
                .account_by_email("a@example.com")
                .unwrap()
                .unwrap()
                .id,
            b"Subject: x\r\n\r\ny".to_vec(),
            ItemFields::default(),
        )
        .unwrap();
    // ...and the server's poller notices at once.
    let now = server.change_counter().unwrap();
    assert!(now > seen);
    let ch = server.accounts_changed_since(seen).unwrap();
    assert!(!ch.truncated);
    assert_eq!(ch.counter, now);
    assert_eq!(ch.accounts.len(), 1);
    assert_eq!(ch.accounts[0].folders, vec![inbox.id]);
    let list = server.list_folder_items(a.id, inbox.id).unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].id, item.id);
    // Nothing newer.
    assert!(server
        .accounts_changed_since(now)
        .unwrap()
        .accounts
        .is_empty());
}

#[test]
fn concurrent_writers_on_two_handles_do_not_lose_writes() {
    let dir = tempfile::tempdir().unwrap();
    let s1 = Arc::new(SqliteStore::open_data_dir(dir.path()).unwrap());
    let s2 = Arc::new(SqliteStore::open_data_dir(dir.path()).unwrap());
    let a = account(&s1, "a@example.com");
    let inbox = inbox(&s1, a.id);
    let threads: Vec<_> = [s1.clone(), s2.clone(), s1.clone(), s2.clone()]
        .into_iter()
        .enumerate()
        .map(|(t, s)| {
            std::thread::spawn(move || {
                for i in 0..50 {
                    s.add_item(a.id, mail(inbox.id, &format!("t{t}-{i}"), i))
                        .unwrap();
                    // Readers run alongside the writers.
                    s.list_folder_items(a.id, inbox.id).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let list = s2.list_folder_items(a.id, inbox.id).unwrap();
    assert_eq!(list.items.len(), 200);
    // Every write got its own modseq and server id.
    let mut modseqs: Vec<i64> = list.items.iter().map(|i| i.modseq.0).collect();
    modseqs.sort();
    modseqs.dedup();
    assert_eq!(modseqs.len(), 200);
    let mut sids: Vec<&str> = list.items.iter().map(|i| i.server_id.as_str()).collect();
    sids.sort();
    sids.dedup();
    assert_eq!(sids.len(), 200);
    assert_eq!(list.modseq, Modseq(*modseqs.last().unwrap()));
}

#[test]
fn writes_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/data/easd.sqlite3");
    let (aid, iid, pid) = {
        let store = SqliteStore::open(&path).unwrap();
        let a = account(&store, "a@example.com");
        let inbox = inbox(&store, a.id);
        let item = store.add_item(a.id, mail(inbox.id, "kept", 7)).unwrap();
        let p = store.create_partnership(a.id, "DEV", "t", "u").unwrap();
        store.put_sync_state(p.id, "1", 3, b"state3").unwrap();
        (a.id, item.id, p.id)
        // Dropped without any explicit close or checkpoint.
    };
    let store = SqliteStore::open(&path).unwrap();
    let item = store.item(aid, iid).unwrap().unwrap();
    assert_eq!(item.fields.subject, "kept");
    assert_eq!(
        store.latest_sync_state(pid, "1").unwrap().unwrap(),
        (3, b"state3".to_vec())
    );
    // Counters continue where they were: no server id or modseq is reused.
    let inbox = inbox(&store, aid);
    let next = store.add_item(aid, mail(inbox.id, "next", 8)).unwrap();
    assert!(next.modseq > item.modseq);
    assert_ne!(next.server_id, item.server_id);
}

#[test]
fn change_events_are_pruned_and_truncation_reported() {
    let (_d, store) = open();
    let a = account(&store, "a@example.com");
    store.set_change_events_kept(20).unwrap();
    let start = store.change_counter().unwrap();
    // More than the kept window of counter values.
    for i in 0..60 {
        store.kv_set("k", &i.to_string()).unwrap();
    }
    let ch = store.accounts_changed_since(start).unwrap();
    assert!(ch.truncated, "events since {start} were pruned");
    let recent = store.change_counter().unwrap() - 10;
    let ch = store.accounts_changed_since(recent).unwrap();
    assert!(!ch.truncated);
    assert!(ch.settings);
    // The account is still fine.
    assert!(store.account(a.id).unwrap().is_some());
}

#[test]
fn store_is_object_safe_and_shareable() {
    let (_d, store) = open();
    let store: Arc<dyn Store> = Arc::new(store);
    let a = store.create_account("x@example.com", "h").unwrap();
    let s2 = store.clone();
    std::thread::spawn(move || s2.folders(a.id).unwrap().len())
        .join()
        .map(|n| assert_eq!(n, DEFAULT_FOLDERS.len()))
        .unwrap();
}
