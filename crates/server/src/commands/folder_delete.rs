//! FolderDelete (MS-ASCMD 2.2.1.4): deletes a folder and everything in it; carries the
//! FolderSync SyncKey.

use super::{CommandResponse, Ctx};
use crate::access_log::AccessRecord;
use easd_engine::EngineError;
use easd_protocol::commands::folder_delete::{FolderDeleteRequest, FolderDeleteResponse};
use easd_protocol::status::FolderDeleteStatus;
use easd_wbxml::Element;

pub async fn handle(
    ctx: &Ctx,
    root: Option<Element>,
    record: &mut AccessRecord,
) -> Result<CommandResponse, EngineError> {
    let response = match root.as_ref().map(FolderDeleteRequest::parse) {
        None | Some(Err(_)) => FolderDeleteResponse::protocol_error(),
        Some(Ok(request)) => {
            let outcome = ctx
                .engine()
                .folder_delete(&ctx.partnership, &request.sync_key, &request.server_id)
                .await?;
            match outcome {
                Ok(sync_key) => FolderDeleteResponse {
                    status: FolderDeleteStatus::Success,
                    sync_key: Some(sync_key),
                },
                Err(status) => FolderDeleteResponse::status(status),
            }
        }
    };
    record.eas_status = Some(response.status.code());
    Ok(CommandResponse::Wbxml(response.to_element()))
}
