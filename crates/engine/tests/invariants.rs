//! ARCHITECTURE.md's invariants, each with a test on a real SQLite file that fails without it.

use easd_engine::ping::{WaitOutcome, WaitRequest};
use easd_engine::sync::SyncContext;
use easd_engine::{Engine, EngineSettings};
use easd_protocol::commands::sync::{
    ClientCommand, ClientCommandResponse, ServerCommand, SyncCollectionRequest,
    SyncCollectionResponse, SyncStatus,
};
use easd_protocol::items::email::EmailChange;
use easd_protocol::ProtocolVersion;
use easd_store::{folder_type, password, Account, Partnership, Store};
use easd_wbxml::tags::{airsync, email};
use easd_wbxml::Element;
use std::sync::Arc;
use std::time::Duration;

struct World {
    _dir: tempfile::TempDir,
    engine: Arc<Engine>,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), EngineSettings::default()).unwrap();
    World { _dir: dir, engine }
}

fn account(w: &World, email: &str) -> Account {
    w.engine
        .store()
        .create_account(email, &password::hash_password("pw"))
        .unwrap()
}

fn device(w: &World, account: &Account, id: &str) -> Partnership {
    w.engine
        .store()
        .create_partnership(account.id, id, "Test", "test")
        .unwrap()
}

fn inbox(w: &World, account: &Account) -> easd_store::Folder {
    w.engine
        .store()
        .default_folder(account.id, folder_type::INBOX)
        .unwrap()
        .unwrap()
}

async fn deliver(w: &World, account: &Account, n: usize) {
    for i in 0..n {
        let raw = format!(
            "From: a@x\r\nTo: b@x\r\nSubject: m{i}\r\nMessage-ID: <{i}.{}@x>\r\n\r\nbody {i}\r\n",
            account.id.0
        );
        w.engine
            .deliver(account.id, raw.into_bytes())
            .await
            .unwrap();
    }
}

fn ctx() -> SyncContext {
    SyncContext {
        version: ProtocolVersion::V16_1,
        window_size: None,
        now: time::OffsetDateTime::now_utc().unix_timestamp(),
    }
}

async fn sync(
    w: &World,
    p: &Partnership,
    folder: &str,
    key: &str,
    window: u32,
    commands: Vec<ClientCommand>,
) -> SyncCollectionResponse {
    let mut r = SyncCollectionRequest::new(key, folder);
    r.window_size = Some(window);
    r.commands = commands;
    w.engine.sync_collection(p, r, ctx()).await.unwrap()
}

fn adds(r: &SyncCollectionResponse) -> Vec<String> {
    r.commands
        .iter()
        .filter(|c| matches!(c, ServerCommand::Add { .. }))
        .map(|c| c.server_id().to_owned())
        .collect()
}

fn read_change(sid: &str) -> ClientCommand {
    let change = EmailChange {
        read: Some(true),
        ..Default::default()
    };
    ClientCommand::Change {
        server_id: sid.into(),
        instance_id: None,
        application_data: change.to_application_data(ProtocolVersion::V16_1),
        send: false,
    }
}

#[tokio::test]
async fn invariant_1_an_acknowledged_change_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (sid, folder) = {
        let engine = Engine::open(dir.path(), EngineSettings::default()).unwrap();
        let w = World {
            _dir: tempfile::tempdir().unwrap(),
            engine,
        };
        let a = account(&w, "one@x");
        let p = device(&w, &a, "D1");
        let f = inbox(&w, &a);
        deliver(&w, &a, 3).await;
        let k = sync(&w, &p, &f.server_id, "0", 10, vec![]).await.sync_key;
        let r = sync(&w, &p, &f.server_id, &k, 10, vec![]).await;
        let sid = adds(&r)[0].clone();
        let r = sync(
            &w,
            &p,
            &f.server_id,
            &r.sync_key,
            10,
            vec![read_change(&sid)],
        )
        .await;
        assert_eq!(r.status, SyncStatus::Success);
        assert!(
            r.responses.is_empty(),
            "a successful Change has no response"
        );
        (sid, f.server_id)
        // The engine and its connections are dropped here, as in a crash after the answer.
    };
    let store = easd_store::SqliteStore::open_data_dir(dir.path()).unwrap();
    let a = store.account_by_email("one@x").unwrap().unwrap();
    let item = store.item_by_server_id(a.id, &sid).unwrap().unwrap();
    assert!(item.fields.read);
    assert!(sid.starts_with(&folder));
}

#[tokio::test]
async fn invariant_2_a_resent_sync_key_gets_the_same_answer() {
    let w = world();
    let a = account(&w, "two@x");
    let p = device(&w, &a, "D2");
    let f = inbox(&w, &a);
    deliver(&w, &a, 25).await;
    let k1 = sync(&w, &p, &f.server_id, "0", 10, vec![]).await.sync_key;
    let first = sync(&w, &p, &f.server_id, &k1, 10, vec![]).await;
    // The answer was lost: the client sends the same key again.
    let again = sync(&w, &p, &f.server_id, &k1, 10, vec![]).await;
    assert_eq!(again.status, SyncStatus::Success, "not Status 3");
    assert_eq!(adds(&first), adds(&again));
    assert_eq!(first.sync_key, again.sync_key);
    // And a resent client Add is not made twice.
    let drafts = w
        .engine
        .store()
        .default_folder(a.id, folder_type::DRAFTS)
        .unwrap()
        .unwrap();
    let dk = sync(&w, &p, &drafts.server_id, "0", 10, vec![])
        .await
        .sync_key;
    let dk = sync(&w, &p, &drafts.server_id, &dk, 10, vec![])
        .await
        .sync_key;
    let add = ClientCommand::Add {
        client_id: "c1".into(),
        class: None,
        application_data: Element::new(airsync::APPLICATION_DATA)
            .with_text(email::SUBJECT, "draft")
            .with_text(email::TO, "z@x"),
        send: false,
    };
    let r1 = sync(&w, &p, &drafts.server_id, &dk, 10, vec![add.clone()]).await;
    let r2 = sync(&w, &p, &drafts.server_id, &dk, 10, vec![add]).await;
    let sid = |r: &SyncCollectionResponse| match &r.responses[0] {
        ClientCommandResponse::Add {
            server_id, status, ..
        } => {
            assert_eq!(*status, SyncStatus::Success);
            server_id.clone().unwrap()
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(sid(&r1), sid(&r2));
    assert_eq!(
        w.engine
            .store()
            .list_folder_items(a.id, drafts.id)
            .unwrap()
            .items
            .len(),
        1
    );
}

#[tokio::test]
async fn invariant_3_initial_contents_before_changes() {
    let w = world();
    let a = account(&w, "three@x");
    let p = device(&w, &a, "D3");
    let f = inbox(&w, &a);
    deliver(&w, &a, 30).await;
    let k = sync(&w, &p, &f.server_id, "0", 10, vec![]).await.sync_key;
    let r = sync(&w, &p, &f.server_id, &k, 10, vec![]).await;
    assert!(r.more_available);
    // Another device changes an item this one already has.
    let sent = adds(&r)[0].clone();
    let item = w
        .engine
        .store()
        .item_by_server_id(a.id, &sent)
        .unwrap()
        .unwrap();
    w.engine
        .store()
        .update_item(
            a.id,
            item.id,
            &easd_store::ItemChange {
                read: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    let mut seen: Vec<String> = adds(&r);
    let mut key = r.sync_key;
    let mut change_after_all_adds = false;
    loop {
        let r = sync(&w, &p, &f.server_id, &key, 10, vec![]).await;
        for c in &r.commands {
            match c {
                ServerCommand::Add { server_id, .. } => {
                    assert!(!change_after_all_adds);
                    assert!(!seen.contains(server_id));
                    seen.push(server_id.clone());
                }
                ServerCommand::Change { server_id, .. } => {
                    assert_eq!(
                        seen.len(),
                        30,
                        "a Change came before the initial contents were complete"
                    );
                    assert_eq!(server_id, &sent);
                    change_after_all_adds = true;
                }
                other => panic!("{other:?}"),
            }
        }
        key = r.sync_key;
        if !r.more_available {
            break;
        }
    }
    assert_eq!(seen.len(), 30);
    assert!(change_after_all_adds);
}

#[tokio::test]
async fn invariant_6_a_change_between_pings_is_found_in_the_store() {
    let w = world();
    let a = account(&w, "six@x");
    let p = device(&w, &a, "D6");
    let f = inbox(&w, &a);
    let k = sync(&w, &p, &f.server_id, "0", 10, vec![]).await.sync_key;
    sync(&w, &p, &f.server_id, &k, 10, vec![]).await;
    // Written by "another process": straight to the store, no hub wake-up.
    let raw = b"From: a@x\r\nSubject: quiet\r\n\r\nx".to_vec();
    let fields = easd_engine::content::mail::fields_from_mime(&raw, 0).unwrap();
    w.engine.store().deliver(a.id, raw, fields).unwrap();
    let outcome = tokio::time::timeout(
        Duration::from_secs(5),
        w.engine.wait_for_changes(
            &p,
            WaitRequest {
                folders: vec![f.clone()],
                interval: Duration::from_secs(60),
                watch_hierarchy: false,
            },
        ),
    )
    .await
    .expect("the Ping must not park over a change already in the store")
    .unwrap();
    assert_eq!(
        outcome,
        WaitOutcome::Changed(vec![f.server_id.clone()], None)
    );
    // A wake-up with nothing behind it is only a hint: the wait goes on.
    let k = sync(&w, &p, &f.server_id, "1", 10, vec![]).await.sync_key;
    sync(&w, &p, &f.server_id, &k, 10, vec![]).await;
    let engine = w.engine.clone();
    let f2 = f.clone();
    let p2 = p.clone();
    let waiting = tokio::spawn(async move {
        engine
            .wait_for_changes(
                &p2,
                WaitRequest {
                    folders: vec![f2],
                    interval: Duration::from_millis(800),
                    watch_hierarchy: false,
                },
            )
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    w.engine.hub.changed(a.id.0, &[f.id.0]);
    assert_eq!(waiting.await.unwrap().unwrap(), WaitOutcome::Expired);
}

#[tokio::test]
async fn invariant_7_another_users_server_id_is_not_found() {
    let w = world();
    let alice = account(&w, "alice@x");
    let bob = account(&w, "bob@x");
    deliver(&w, &bob, 1).await;
    let bob_item = &w
        .engine
        .store()
        .list_folder_items(bob.id, inbox(&w, &bob).id)
        .unwrap()
        .items[0];
    let p = device(&w, &alice, "DA");
    let f = inbox(&w, &alice);
    // Both inboxes are "1" (per-account ServerIds), so Bob's item id looks plausible to Alice.
    assert_eq!(f.server_id, inbox(&w, &bob).server_id);
    let k = sync(&w, &p, &f.server_id, "0", 10, vec![]).await.sync_key;
    let k = sync(&w, &p, &f.server_id, &k, 10, vec![]).await.sync_key;
    let r = sync(
        &w,
        &p,
        &f.server_id,
        &k,
        10,
        vec![
            read_change(&bob_item.server_id),
            ClientCommand::Fetch {
                server_id: bob_item.server_id.clone(),
            },
            ClientCommand::Delete {
                server_id: bob_item.server_id.clone(),
                instance_id: None,
            },
        ],
    )
    .await;
    assert_eq!(r.responses.len(), 3);
    assert!(
        r.responses
            .iter()
            .all(|x| x.status() == SyncStatus::ObjectNotFound),
        "{:?}",
        r.responses
    );
    let still = w.engine.store().item(bob.id, bob_item.id).unwrap().unwrap();
    assert!(!still.fields.read);
}

/// Invariant 6 for decisions about a device: another process's block of a device and a
/// hierarchy change of its account, seen in one poll, end its parked Ping with the block
/// (a Ping woken for the hierarchy first would be between two watches and miss it).
#[tokio::test]
async fn a_device_decision_polled_with_other_events_ends_the_parked_ping() {
    use easd_engine::push::Wake;
    use easd_store::{AccountChanges, AccountId, ChangesSince, PartnershipId};
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), EngineSettings::default()).unwrap();
    let mut watch = engine.hub.watch(1, 7, vec![3]);
    engine.wake_for(ChangesSince {
        counter: 2,
        truncated: false,
        accounts: vec![AccountChanges {
            account: AccountId(1),
            folders: vec![easd_store::FolderId(3)],
            hierarchy: true,
            partnerships: vec![PartnershipId(7)],
        }],
        settings: false,
    });
    assert!(matches!(watch.woken().await, Wake::Superseded));
}
