//! FolderUpdate (MS-ASCMD 2.2.1.6): renames and/or moves a folder; carries the FolderSync
//! SyncKey.

use super::{CommandResponse, Ctx};
use crate::access_log::AccessRecord;
use easd_engine::EngineError;
use easd_protocol::commands::folder_update::{FolderUpdateRequest, FolderUpdateResponse};
use easd_protocol::status::FolderUpdateStatus;
use easd_wbxml::Element;

pub async fn handle(
    ctx: &Ctx,
    root: Option<Element>,
    record: &mut AccessRecord,
) -> Result<CommandResponse, EngineError> {
    let response = match root.as_ref().map(FolderUpdateRequest::parse) {
        None | Some(Err(_)) => FolderUpdateResponse::protocol_error(),
        Some(Ok(request)) => {
            let outcome = ctx
                .engine()
                .folder_update(
                    &ctx.partnership,
                    &request.sync_key,
                    &request.server_id,
                    &request.parent_id,
                    &request.display_name,
                )
                .await?;
            match outcome {
                Ok(sync_key) => FolderUpdateResponse {
                    status: FolderUpdateStatus::Success,
                    sync_key: Some(sync_key),
                },
                Err(status) => FolderUpdateResponse::status(status),
            }
        }
    };
    record.eas_status = Some(response.status.code());
    Ok(CommandResponse::Wbxml(response.to_element()))
}
