//! The device gate of every command: access state (Allow/Block/Quarantine, decided by
//! `easd_engine::access`) and a pending remote wipe (MS-ASPROV 3.2.5.1.2.2), checked after
//! the partnership lookup and before the policy key.

use super::{command_root, status_tag, CommandResponse, EasRequest};
use crate::access_log::AccessRecord;
use axum::http::StatusCode;
use easd_protocol::status::CommonStatus;
use easd_protocol::{Command, ProtocolVersion};
use easd_store::{AccessState, Partnership, WipeState};
use easd_wbxml::Element;

/// None when the command may run; otherwise the refusal.
pub async fn gate(
    command: Command,
    request: &EasRequest,
    partnership: &Partnership,
    root: Option<&Element>,
    record: &mut AccessRecord,
) -> Option<CommandResponse> {
    let refuse = |record: &mut AccessRecord, status: CommonStatus, http: StatusCode, why: &str| {
        record.eas_status = Some(status.code());
        // MS-ASCMD 2.2.2: common statuses are answered in the command's Status from 14.0;
        // older clients get the HTTP status (403 blocked, 449 re-provision, MS-ASHTTP 3.2.5.1).
        if request.version < ProtocolVersion::V14_0 {
            return CommandResponse::Status(http, why.to_owned());
        }
        let mut root = Element::new(command_root(command));
        root.push_text(status_tag(command), status.code().to_string());
        CommandResponse::Wbxml(root)
    };
    if partnership.access_state == AccessState::Blocked {
        tracing::info!(device = %partnership.device_id, reason = %partnership.access_reason,
            command = command.name(), "refused: device blocked");
        return Some(refuse(
            record,
            CommonStatus::DeviceIsBlockedForThisUser,
            StatusCode::FORBIDDEN,
            "device blocked",
        ));
    }
    // MS-ASPROV 3.2.5.1.2.2: a pending wipe makes every command but Provision ask for a
    // Provision, whose answer carries the RemoteWipe directive.
    if matches!(
        partnership.wipe_state,
        WipeState::PendingFull | WipeState::PendingAccount
    ) && command != Command::Provision
    {
        return Some(refuse(
            record,
            CommonStatus::DeviceNotProvisioned,
            StatusCode::from_u16(449).unwrap_or(StatusCode::FORBIDDEN),
            "Retry after sending a Provision command",
        ));
    }
    if partnership.access_state == AccessState::Quarantined {
        // A quarantined device may set up (Provision, Settings, FolderSync) and sync or push
        // its Inbox, where the notice waits; everything else is refused until approval.
        let allowed = match command {
            Command::Provision | Command::Settings | Command::FolderSync => true,
            Command::Sync | Command::Ping => inbox_only(request, root).await,
            _ => false,
        };
        if !allowed {
            tracing::info!(device = %partnership.device_id, reason = %partnership.access_reason,
                command = command.name(), "refused: device quarantined");
            return Some(refuse(
                record,
                CommonStatus::DeviceIsBlockedForThisUser,
                StatusCode::FORBIDDEN,
                "device quarantined",
            ));
        }
    }
    None
}

/// True when every collection a Sync or Ping names is the Inbox (a Ping without a body
/// reuses its last folders, which were checked when it named them).
async fn inbox_only(request: &EasRequest, root: Option<&Element>) -> bool {
    let Some(root) = root else { return true };
    let account = request.account.id;
    let inbox = request
        .app
        .engine
        .blocking(move |store| {
            Ok(store
                .default_folder(account, easd_store::folder_type::INBOX)?
                .map(|f| f.server_id))
        })
        .await
        .ok()
        .flatten();
    let Some(inbox) = inbox else { return false };
    let mut ids = Vec::new();
    collect_ids(root, &mut ids);
    ids.iter().all(|id| *id == inbox)
}

fn collect_ids(e: &Element, out: &mut Vec<String>) {
    use easd_wbxml::tags::{airsync, ping};
    for child in e.elements() {
        if child.tag == airsync::COLLECTION_ID || child.tag == ping::ID {
            out.push(child.text().unwrap_or_default());
        } else {
            collect_ids(child, out);
        }
    }
}
