//! GetItemEstimate (MS-ASCMD 2.2.1.9): how many changes the next Sync of each collection
//! would bring. The count comes from the same difference the Sync engine computes
//! ([`crate::sync::diff`]), from the state behind the client's sync key: every Add, Change,
//! Delete and SoftDelete the next Sync (all its windows) would send. The key does not move
//! (2.2.3.181.3).

use crate::folders::{load_state, parse_sync_key};
use crate::sync::{collection_cutoff, diff, folder_class, CollectionState};
use crate::{Engine, EngineError};
use easd_protocol::commands::get_item_estimate::{EstimateCollection, EstimateResponse};
use easd_protocol::status::GetItemEstimateStatus;
use easd_store::Partnership;

impl Engine {
    /// One Response per requested collection, in order. `now` is the filter's reference
    /// time (Unix seconds), as for Sync.
    pub async fn item_estimates(
        &self,
        partnership: &Partnership,
        collections: Vec<EstimateCollection>,
        now: i64,
    ) -> Result<Vec<EstimateResponse>, EngineError> {
        let pid = partnership.id;
        let account = partnership.account;
        self.blocking(move |store| {
            let mut out = Vec::with_capacity(collections.len());
            for c in collections {
                let answer = |status, estimate| EstimateResponse {
                    status,
                    collection_id: Some(c.collection_id.clone()),
                    estimate,
                };
                // 2: the collection is unknown (or another user's).
                let Some(folder) = store.folder_by_server_id(account, &c.collection_id)? else {
                    out.push(answer(GetItemEstimateStatus::InvalidCollection, None));
                    continue;
                };
                let state: Option<CollectionState> = match parse_sync_key(&c.sync_key) {
                    // 3: SyncKey 0 means the collection was never synced: a Sync with key
                    // 0 must come first (2.2.3.177.7).
                    Some(0) => {
                        out.push(answer(GetItemEstimateStatus::SyncStateNotPrimed, None));
                        continue;
                    }
                    Some(key) => load_state(store, pid, &c.collection_id, key)?,
                    None => None,
                };
                // 4: the key does not match one the server holds (2.2.3.181.3).
                let Some(state) = state else {
                    out.push(answer(GetItemEstimateStatus::InvalidSyncKey, None));
                    continue;
                };
                let class = folder_class(folder.folder_type);
                let filter = c
                    .options
                    .iter()
                    .find(|o| {
                        o.class
                            .as_deref()
                            .is_some_and(|k| k.eq_ignore_ascii_case(class))
                    })
                    .or_else(|| c.options.iter().find(|o| o.class.is_none()))
                    .and_then(|o| o.filter_type);
                let listing = store.list_folder_items(account, folder.id)?;
                let n = diff(
                    &state,
                    &listing.items,
                    collection_cutoff(filter, &folder, now),
                )
                .len();
                out.push(answer(
                    GetItemEstimateStatus::Success,
                    Some(u32::try_from(n).unwrap_or(u32::MAX)),
                ));
            }
            Ok(out)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::SyncContext;
    use crate::EngineSettings;
    use easd_protocol::commands::get_item_estimate::EstimateOptions;
    use easd_protocol::commands::move_items::Move;
    use easd_protocol::commands::sync::{FilterType, SyncCollectionRequest, SyncOptions};
    use easd_protocol::status::MoveItemsStatus;
    use easd_protocol::ProtocolVersion;
    use easd_store::{folder_type, Folder, ItemClass, NewItem};
    use std::sync::Arc;

    const DAY: i64 = 86_400;

    struct Setup {
        _dir: tempfile::TempDir,
        engine: Arc<Engine>,
        p1: Partnership,
        p2: Partnership,
        inbox: Folder,
        junk: Folder,
        now: i64,
    }

    async fn setup() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path(), EngineSettings::default()).unwrap();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let (p1, p2, inbox, junk) = engine
            .blocking(move |store| {
                let a = store.create_account("eve@example.com", "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA")?;
                let inbox = store.default_folder(a.id, folder_type::INBOX)?.unwrap();
                let junk = store.folders(a.id)?.into_iter().find(|f| f.display_name == "Junk E-Mail").unwrap();
                // Three messages ten days old, two of today.
                for (i, age) in [10, 10, 10, 0, 0].into_iter().enumerate() {
                    let raw = format!("From: a@example.net\r\nSubject: m{i}\r\nMessage-ID: <m{i}@x>\r\n\r\nbody {i}\r\n");
                    let fields = crate::content::mail::fields_from_mime(raw.as_bytes(), now - age * DAY)?;
                    store.add_item(
                        a.id,
                        NewItem { folder: inbox.id, class: ItemClass::Email, content: raw.into_bytes(), fields },
                    )?;
                }
                Ok((
                    store.create_partnership(a.id, "DEV1", "test", "ua")?,
                    store.create_partnership(a.id, "DEV2", "test", "ua")?,
                    inbox,
                    junk,
                ))
            })
            .await
            .unwrap();
        Setup {
            _dir: dir,
            engine,
            p1,
            p2,
            inbox,
            junk,
            now,
        }
    }

    fn collection(key: &str, folder: &Folder, filter: Option<FilterType>) -> EstimateCollection {
        EstimateCollection {
            sync_key: key.into(),
            collection_id: folder.server_id.clone(),
            conversation_mode: None,
            options: vec![EstimateOptions {
                class: None,
                filter_type: filter,
                max_items: None,
            }],
        }
    }

    async fn estimate(
        s: &Setup,
        p: &Partnership,
        key: &str,
        folder: &Folder,
        filter: Option<FilterType>,
    ) -> EstimateResponse {
        s.engine
            .item_estimates(p, vec![collection(key, folder, filter)], s.now)
            .await
            .unwrap()
            .remove(0)
    }

    /// A Sync with a big window: (new key, number of commands).
    async fn sync(
        s: &Setup,
        p: &Partnership,
        key: &str,
        folder: &Folder,
        filter: Option<FilterType>,
    ) -> (String, usize) {
        let mut request = SyncCollectionRequest::new(key, folder.server_id.clone());
        request.window_size = Some(500);
        if let Some(f) = filter {
            request.options = vec![SyncOptions {
                filter_type: Some(f.code()),
                ..Default::default()
            }];
        }
        let ctx = SyncContext {
            version: ProtocolVersion::V16_1,
            window_size: None,
            now: s.now,
        };
        let r = s.engine.sync_collection(p, request, ctx).await.unwrap();
        (r.sync_key, r.commands.len())
    }

    #[tokio::test]
    async fn estimate_is_what_the_next_sync_sends() {
        let s = setup().await;
        let est = |key: &str, f| {
            let key = key.to_owned();
            let s = &s;
            async move { estimate(s, &s.p1, &key, &s.inbox, f).await }
        };
        // Statuses: never synced (3), a key the server does not hold (4), no such folder (2).
        assert_eq!(
            est("0", None).await.status,
            GetItemEstimateStatus::SyncStateNotPrimed
        );
        let (k1, n) = sync(&s, &s.p1, "0", &s.inbox, None).await;
        assert_eq!((k1.as_str(), n), ("1", 0));
        assert_eq!(
            est("9", None).await.status,
            GetItemEstimateStatus::InvalidSyncKey
        );
        assert_eq!(
            est("x", None).await.status,
            GetItemEstimateStatus::InvalidSyncKey
        );
        let mut bad = collection(&k1, &s.inbox, None);
        bad.collection_id = "nope".into();
        let r = s
            .engine
            .item_estimates(&s.p1, vec![bad], s.now)
            .await
            .unwrap();
        assert_eq!(r[0].status, GetItemEstimateStatus::InvalidCollection);
        assert_eq!(r[0].collection_id.as_deref(), Some("nope"));

        // A week's filter: the two new messages; then the three older ones without it;
        // then, with the filter again, three SoftDeletes.
        let week = Some(FilterType::OneWeek);
        let steps = [(week, 2), (None, 3), (week, 3), (week, 0)];
        let mut key = k1;
        for (filter, expected) in steps {
            let e = est(&key, filter).await;
            assert_eq!(e.status, GetItemEstimateStatus::Success);
            assert_eq!(e.estimate, Some(expected), "filter {filter:?}");
            let (next, n) = sync(&s, &s.p1, &key, &s.inbox, filter).await;
            assert_eq!(n as u32, expected, "filter {filter:?}");
            // Nothing more after that Sync.
            assert_eq!(
                est(&next, filter).await.estimate,
                Some(0),
                "filter {filter:?}"
            );
            key = next;
        }
    }

    #[tokio::test]
    async fn own_move_is_not_echoed_other_device_sees_delete_and_add() {
        let s = setup().await;
        let mut keys = Vec::new();
        for p in [&s.p1, &s.p2] {
            for f in [&s.inbox, &s.junk] {
                let (k, _) = sync(&s, p, "0", f, None).await;
                let (k, n) = sync(&s, p, &k, f, None).await;
                assert_eq!(n, if f.id == s.inbox.id { 5 } else { 0 });
                keys.push(k);
            }
        }
        let listing = s
            .engine
            .store()
            .list_folder_items(s.p1.account, s.inbox.id)
            .unwrap();
        let victim = listing.items[0].server_id.clone();
        let mv = |src: &str, from: &Folder, to: &Folder| Move {
            src_msg_id: src.into(),
            src_fld_id: from.server_id.clone(),
            dst_fld_id: to.server_id.clone(),
        };
        let r = s
            .engine
            .move_items(
                &s.p1,
                vec![
                    mv(&victim, &s.inbox, &s.junk),
                    mv(&victim, &s.inbox, &s.junk),
                    mv(&listing.items[1].server_id, &s.inbox, &s.inbox),
                    mv(
                        &listing.items[1].server_id,
                        &s.inbox,
                        &Folder {
                            server_id: "nope".into(),
                            ..s.junk.clone()
                        },
                    ),
                    mv(
                        &listing.items[1].server_id,
                        &Folder {
                            server_id: "nope".into(),
                            ..s.inbox.clone()
                        },
                        &s.junk,
                    ),
                ],
            )
            .await
            .unwrap();
        let statuses: Vec<_> = r.iter().map(|r| r.status).collect();
        assert_eq!(
            statuses,
            [
                MoveItemsStatus::Success,
                MoveItemsStatus::InvalidSourceId,
                MoveItemsStatus::SameSourceAndDestination,
                MoveItemsStatus::InvalidDestinationId,
                MoveItemsStatus::InvalidSourceId,
            ]
        );
        let new_id = r[0].dst_msg_id.clone().unwrap();
        assert!(new_id.starts_with(&format!("{}:", s.junk.server_id)));

        // The mover: nothing to tell in either folder, same keys, and Ping sees nothing.
        for (i, f) in [&s.inbox, &s.junk].into_iter().enumerate() {
            assert_eq!(
                estimate(&s, &s.p1, &keys[i], f, None).await.estimate,
                Some(0)
            );
            assert_eq!(
                sync(&s, &s.p1, &keys[i], f, None).await,
                (keys[i].clone(), 0)
            );
            assert!(!s.engine.folder_has_changes(&s.p1, f).await.unwrap());
        }
        // The other device: a Delete in the Inbox, an Add in Junk.
        for (i, f) in [&s.inbox, &s.junk].into_iter().enumerate() {
            assert_eq!(
                estimate(&s, &s.p2, &keys[2 + i], f, None).await.estimate,
                Some(1)
            );
            assert!(s.engine.folder_has_changes(&s.p2, f).await.unwrap());
            let (_, n) = sync(&s, &s.p2, &keys[2 + i], f, None).await;
            assert_eq!(n, 1);
        }
    }
}
