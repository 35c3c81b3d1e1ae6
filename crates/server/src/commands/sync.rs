//! Sync (MS-ASCMD 2.2.1.21): the collections of one request, the empty request that reuses
//! the cached ones, and Wait/HeartbeatInterval.

use super::{CommandResponse, Ctx};
use crate::access_log::AccessRecord;
use axum::body::{Body, Bytes};
use easd_engine::ping::{WaitOutcome, WaitRequest};
use easd_engine::sync::{CollectionPlan, MergeCached, SyncContext};
use easd_engine::{Engine, EngineError};
use easd_protocol::commands::sync::{
    SyncCollectionResponse, SyncRequest, SyncResponse, SyncStatus,
};
use easd_wbxml::{tags::airsync, Element, Writer};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Most collections in one request (MS-ASCMD 2.2.3.177.17 Status 15 gives the limit).
const MAX_COLLECTIONS: usize = 1000;

/// A response with this many items or more is streamed (see `stream`); smaller ones go out
/// whole, with a Content-Length.
const STREAM_FROM_ITEMS: usize = 50;

/// Items rendered between two chunks of a streamed response.
const STREAM_BATCH: usize = 16;

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
    let plan = |request: &SyncRequest| {
        let request = request.clone();
        async move {
            let mut plans = Vec::with_capacity(request.collections.len());
            for c in request.collections {
                let sync_ctx = SyncContext {
                    version: ctx.version(),
                    window_size: request.window_size,
                    now: time::OffsetDateTime::now_utc().unix_timestamp(),
                };
                plans.push(engine.plan_collection(p, c, sync_ctx).await?);
            }
            Ok::<_, EngineError>(plans)
        }
    };
    let mut plans = plan(&request).await?;
    if let Some(seconds) = wait {
        if plans.iter().all(is_idle) {
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
                WaitOutcome::Changed(..) => plans = plan(&request).await?,
                // MS-ASCMD 2.2.1.21: nothing changed within the wait → an empty response.
                _ => return Ok(CommandResponse::Empty),
            }
        }
    }
    record.eas_status = plans.first().map(|c| c.response.status.code());
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    record.items_sent = count(plans.iter().map(CollectionPlan::command_count).sum());
    record.items_received = count(request.collections.iter().map(|c| c.commands.len()).sum());
    let items: usize = plans.iter().map(CollectionPlan::pending_items).sum();
    if items >= STREAM_FROM_ITEMS && ctx.request.may_stream {
        return Ok(CommandResponse::Stream(stream(engine.clone(), plans)));
    }
    let mut collections = Vec::with_capacity(plans.len());
    for plan in plans {
        collections.push(engine.render_collection(plan).await?);
    }
    let response = SyncResponse {
        status: None,
        limit: None,
        collections,
    };
    Ok(CommandResponse::Wbxml(response.to_element()))
}

/// A collection answer with nothing in it: the key did not move.
fn is_idle(c: &CollectionPlan) -> bool {
    let r = &c.response;
    r.status == SyncStatus::Success
        && c.command_count() == 0
        && r.responses.is_empty()
        && !r.more_available
}

/// Writes the response as its items are rendered, a few at a time: the client has bytes at
/// once and then steadily, however long the whole takes (Android gives up on a response that
/// sends nothing for about 30 s), and the server never holds the whole answer. The states
/// behind the new keys are saved; a response cut short is recovered by the client resending
/// its keys (invariant 2).
fn stream(engine: Arc<Engine>, plans: Vec<CollectionPlan>) -> Body {
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(2);
    tokio::spawn(async move {
        if let Err(e) = write_streamed(&engine, plans, &tx).await {
            tracing::warn!(error = %e, "streamed Sync response cut short");
            let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
        }
    });
    Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }))
}

#[derive(Debug, thiserror::Error)]
enum StreamError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("encoding: {0}")]
    Encode(#[from] easd_wbxml::EncodeError),
    #[error("the client went away")]
    Gone,
}

async fn write_streamed(
    engine: &Engine,
    plans: Vec<CollectionPlan>,
    tx: &mpsc::Sender<Result<Bytes, std::io::Error>>,
) -> Result<(), StreamError> {
    let send = |w: &mut Writer<Vec<u8>>| {
        let chunk = Bytes::from(w.take_written());
        async move {
            if chunk.is_empty() {
                return Ok(());
            }
            tx.send(Ok(chunk)).await.map_err(|_| StreamError::Gone)
        }
    };
    let mut w = Writer::new(Vec::new());
    w.start(airsync::SYNC)?;
    w.start(airsync::COLLECTIONS)?;
    // The header and <Sync> at once, before any item is read.
    send(&mut w).await?;
    for plan in &plans {
        let commands_follow = plan.command_count() > 0;
        plan.response.write_open(&mut w, commands_follow)?;
        send(&mut w).await?;
        let count = plan.pending_items();
        let mut at = 0;
        while at < count {
            let end = (at + STREAM_BATCH).min(count);
            for command in engine.render_items(plan, at..end).await? {
                command.write(&mut w)?;
            }
            send(&mut w).await?;
            at = end;
        }
        for removal in plan.removals() {
            removal.write(&mut w)?;
        }
        SyncCollectionResponse::write_close(&mut w, commands_follow)?;
    }
    w.end()?;
    w.end()?;
    let rest = Bytes::from(w.finish()?);
    tx.send(Ok(rest)).await.map_err(|_| StreamError::Gone)
}

fn reply(response: SyncResponse, record: &mut AccessRecord) -> CommandResponse {
    record.eas_status = response.status.map(|s| s.code());
    CommandResponse::Wbxml(response.to_element())
}
