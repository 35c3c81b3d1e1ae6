//! Sync (MS-ASCMD 2.2.1.21): the collections of one request, the empty request that reuses
//! the cached ones, and Wait/HeartbeatInterval.

use super::{CommandResponse, Ctx};
use crate::access_log::AccessRecord;
use easd_engine::ping::{WaitOutcome, WaitRequest};
use easd_engine::sync::{MergeCached, SyncContext};
use easd_engine::EngineError;
use easd_protocol::commands::sync::{
    SyncCollectionResponse, SyncRequest, SyncResponse, SyncStatus,
};
use easd_wbxml::Element;
use std::time::Duration;

/// Most collections in one request (MS-ASCMD 2.2.3.177.17 Status 15 gives the limit).
const MAX_COLLECTIONS: usize = 1000;

pub async fn handle(
    ctx: &Ctx,
    root: Option<Element>,
    record: &mut AccessRecord,
) -> Result<CommandResponse, EngineError> {
    let engine = ctx.engine();
    let p = &ctx.partnership;
    // A Sync from the device ends its parked Ping (MS-ASCMD 2.2.1.13).
    engine.hub.supersede(p.account.0, p.id.0);
    let mut request = match SyncRequest::parse_opt(root.as_ref()) {
        Ok(r) => r,
        Err(_) => return Ok(reply(SyncResponse::protocol_error(), record)),
    };
    if request.collections.len() > MAX_COLLECTIONS {
        let mut r = SyncResponse::status(SyncStatus::InvalidSyncCommand);
        r.limit = Some(MAX_COLLECTIONS as u32);
        return Ok(reply(r, record));
    }
    if request.needs_cached_collections() {
        match engine.cached_sync_request(p).await? {
            Some(cached) => request.merge_cached(cached),
            None => {
                return Ok(reply(
                    SyncResponse::status(SyncStatus::IncompleteRequest),
                    record,
                ))
            }
        }
    } else {
        engine.cache_sync_request(p, &request).await?;
    }
    let config = &ctx.app().config;
    let wait = request.wait_seconds();
    if let Some(seconds) = wait {
        record.heartbeat = Some(seconds);
        // MS-ASCMD 2.2.3.79.2 / 2.2.3.197: out of bounds → Status 14 with the bound.
        if seconds < config.heartbeat_min || seconds > config.heartbeat_max {
            let mut r = SyncResponse::status(SyncStatus::InvalidWaitOrHeartbeatInterval);
            let bound = seconds.clamp(config.heartbeat_min, config.heartbeat_max);
            r.limit = Some(if request.wait.is_some() {
                bound / 60
            } else {
                bound
            });
            return Ok(reply(r, record));
        }
    }
    let run = |request: &SyncRequest| {
        let request = request.clone();
        async move {
            let mut collections = Vec::with_capacity(request.collections.len());
            for c in request.collections {
                let sync_ctx = SyncContext {
                    version: ctx.version(),
                    window_size: request.window_size,
                    now: time::OffsetDateTime::now_utc().unix_timestamp(),
                };
                collections.push(engine.sync_collection(p, c, sync_ctx).await?);
            }
            Ok::<_, EngineError>(collections)
        }
    };
    let mut collections = run(&request).await?;
    if let Some(seconds) = wait {
        if collections.iter().all(is_idle) {
            let ids: Vec<String> = request
                .collections
                .iter()
                .map(|c| c.collection_id.clone())
                .collect();
            let folders = engine
                .folders_by_server_ids(p.account, ids)
                .await?
                .unwrap_or_default();
            let interval = Duration::from_secs(u64::from(
                seconds.saturating_sub(config.heartbeat_margin).max(1),
            ));
            let outcome = engine
                .wait_for_changes(
                    p,
                    WaitRequest {
                        folders,
                        interval,
                        watch_hierarchy: false,
                    },
                )
                .await?;
            match outcome {
                WaitOutcome::Changed(_) => collections = run(&request).await?,
                // MS-ASCMD 2.2.1.21: nothing changed within the wait → an empty response.
                _ => return Ok(CommandResponse::Empty),
            }
        }
    }
    record.eas_status = collections.first().map(|c| c.status.code());
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    record.items_sent = count(collections.iter().map(|c| c.commands.len()).sum());
    record.items_received = count(request.collections.iter().map(|c| c.commands.len()).sum());
    let response = SyncResponse {
        status: None,
        limit: None,
        collections,
    };
    Ok(CommandResponse::Wbxml(response.to_element()))
}

/// A collection answer with nothing in it: the key did not move.
fn is_idle(c: &SyncCollectionResponse) -> bool {
    c.status == SyncStatus::Success
        && c.commands.is_empty()
        && c.responses.is_empty()
        && !c.more_available
}

fn reply(response: SyncResponse, record: &mut AccessRecord) -> CommandResponse {
    record.eas_status = response.status.map(|s| s.code());
    CommandResponse::Wbxml(response.to_element())
}
