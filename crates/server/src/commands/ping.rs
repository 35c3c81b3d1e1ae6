//! Ping (MS-ASCMD 2.2.1.13): park until a watched folder changes or the heartbeat ends.

use super::{CommandResponse, Ctx};
use crate::access_log::AccessRecord;
use easd_engine::ping::{WaitOutcome, WaitRequest};
use easd_engine::EngineError;
use easd_protocol::commands::ping::{PingFolder, PingRequest, PingResponse};
use easd_protocol::status::PingStatus;
use easd_wbxml::Element;
use std::time::Duration;

pub async fn handle(
    ctx: &Ctx,
    root: Option<Element>,
    record: &mut AccessRecord,
) -> Result<CommandResponse, EngineError> {
    let (response, ended) = ping(ctx, root, record).await?;
    // Ended early: a newer request of the device, shutdown, or an admin's decision about
    // the device (a block or wipe ends its Ping); for the last, answer with the decision now.
    if ended && !ctx.engine().hub.is_shutting_down() {
        // Boxed: inline, its state would size the future a parked Ping lives in.
        let decision = Box::pin(decision_since_parked(ctx, record));
        if let Some(refusal) = decision.await {
            return Ok(refusal);
        }
    }
    record.eas_status = Some(response.status.code());
    Ok(CommandResponse::Wbxml(response.to_element()))
}

/// The refusal a block or a pending wipe made while the Ping was parked, if any.
async fn decision_since_parked(ctx: &Ctx, record: &mut AccessRecord) -> Option<CommandResponse> {
    let engine = ctx.engine();
    let p = &ctx.partnership;
    let (account, device) = (p.account, p.device_id.clone());
    let fresh = engine
        .blocking(move |store| Ok(store.partnership(account, &device)?))
        .await
        .ok()
        .flatten()?;
    let fresh = engine
        .device_access(&ctx.request.account, fresh)
        .await
        .ok()?;
    super::access::gate(
        easd_protocol::Command::Ping,
        &ctx.request,
        &fresh,
        None,
        record,
    )
    .await
}

/// The answer, and whether the wait ended early (not by a change or the heartbeat).
async fn ping(
    ctx: &Ctx,
    root: Option<Element>,
    record: &mut AccessRecord,
) -> Result<(PingResponse, bool), EngineError> {
    let config = &ctx.app().config;
    let request = match root.as_ref().map(PingRequest::parse) {
        None => PingRequest {
            heartbeat_interval: None,
            folders: None,
        },
        Some(Ok(r)) => r,
        Some(Err(_)) => return Ok((PingResponse::protocol_error(), false)),
    };
    // The request tree would otherwise stay allocated for as long as the Ping is parked.
    drop(root);
    let p = &ctx.partnership;
    // MS-ASCMD 2.2.3.130: an empty Ping (or one missing a part) reuses the last one's.
    let previous: Option<Vec<PingFolder>> =
        serde_json::from_value::<Vec<(String, String)>>(p.ping_folders.clone())
            .ok()
            .filter(|f| !f.is_empty())
            .map(|f| {
                f.into_iter()
                    .map(|(id, class)| PingFolder { id, class })
                    .collect()
            });
    let heartbeat = request
        .heartbeat_interval
        .or_else(|| (p.ping_heartbeat > 0).then_some(p.ping_heartbeat as u32));
    let (Some(heartbeat), Some(folders)) = (heartbeat, request.folders.or(previous)) else {
        return Ok((PingResponse::status(PingStatus::MissingParameters), false));
    };
    record.heartbeat = Some(heartbeat);
    // MS-ASCMD 2.2.3.79.1: outside the bounds, Status 5 with the nearest allowed value.
    if heartbeat < config.heartbeat_min || heartbeat > config.heartbeat_max {
        let mut r = PingResponse::status(PingStatus::HeartbeatOutOfBounds);
        r.heartbeat_interval = Some(heartbeat.clamp(config.heartbeat_min, config.heartbeat_max));
        return Ok((r, false));
    }
    if folders.len() > config.ping_max_folders as usize {
        let mut r = PingResponse::status(PingStatus::TooManyFolders);
        r.max_folders = Some(config.ping_max_folders);
        return Ok((r, false));
    }
    let engine = ctx.engine();
    let ids: Vec<String> = folders.iter().map(|f| f.id.clone()).collect();
    let Some(resolved) = engine.folders_by_server_ids(p.account, ids).await? else {
        // A folder the device names is gone: its hierarchy is out of date.
        return Ok((PingResponse::status(PingStatus::FolderSyncRequired), false));
    };
    let remembered: Vec<(String, String)> = folders
        .iter()
        .map(|f| (f.id.clone(), f.class.clone()))
        .collect();
    engine
        .remember_ping(p, serde_json::json!(remembered), i64::from(heartbeat))
        .await?;
    // Answer a little before the interval ends, so that we, not a proxy, close the
    // connection (ARCHITECTURE.md invariant 4).
    let interval = Duration::from_secs(u64::from(
        heartbeat.saturating_sub(config.heartbeat_margin).max(1),
    ));
    let outcome = engine
        .wait_for_changes(
            p,
            WaitRequest {
                folders: resolved,
                interval,
                watch_hierarchy: true,
            },
        )
        .await?;
    Ok(match outcome {
        WaitOutcome::Changed(folders, announced) => {
            if let Some(at) = announced {
                crate::admin::metrics().push_latency(at.elapsed());
            }
            (
                PingResponse {
                    folders,
                    ..PingResponse::status(PingStatus::ChangesFound)
                },
                false,
            )
        }
        WaitOutcome::HierarchyChanged => {
            (PingResponse::status(PingStatus::FolderSyncRequired), false)
        }
        WaitOutcome::Expired => (PingResponse::status(PingStatus::Expired), false),
        WaitOutcome::Ended => (PingResponse::status(PingStatus::Expired), true),
    })
}
