//! FolderCreate (MS-ASCMD 2.2.1.3): creates a folder; carries the FolderSync SyncKey.

use super::{CommandResponse, Ctx};
use crate::access_log::AccessRecord;
use easd_engine::EngineError;
use easd_protocol::commands::folder_create::{FolderCreateRequest, FolderCreateResponse};
use easd_protocol::status::FolderCreateStatus;
use easd_wbxml::Element;

pub async fn handle(
    ctx: &Ctx,
    root: Option<Element>,
    record: &mut AccessRecord,
) -> Result<CommandResponse, EngineError> {
    let response = match root.as_ref().map(FolderCreateRequest::parse) {
        None | Some(Err(_)) => FolderCreateResponse::protocol_error(),
        Some(Ok(request)) => {
            let outcome = ctx
                .engine()
                .folder_create(
                    &ctx.partnership,
                    &request.sync_key,
                    &request.parent_id,
                    &request.display_name,
                    request.folder_type,
                )
                .await?;
            match outcome {
                Ok(created) => FolderCreateResponse {
                    status: FolderCreateStatus::Success,
                    sync_key: Some(created.sync_key),
                    server_id: Some(created.server_id),
                },
                Err(status) => FolderCreateResponse::status(status),
            }
        }
    };
    record.eas_status = Some(response.status.code());
    Ok(CommandResponse::Wbxml(response.to_element()))
}
