//! FolderSync (MS-ASCMD 2.2.1.5): the folder hierarchy with its own sync key.

use super::{CommandResponse, Ctx};
use crate::access_log::AccessRecord;
use easd_engine::folders::{FolderChanges, FolderSyncOutcome};
use easd_engine::EngineError;
use easd_protocol::commands::folder_sync::{
    Folder, FolderChange, FolderSyncRequest, FolderSyncResponse, FolderType,
};
use easd_protocol::status::FolderSyncStatus;
use easd_wbxml::Element;

pub async fn handle(
    ctx: &Ctx,
    root: Option<Element>,
    record: &mut AccessRecord,
) -> Result<CommandResponse, EngineError> {
    let response = match root.as_ref().map(FolderSyncRequest::parse) {
        None | Some(Err(_)) => FolderSyncResponse::status(FolderSyncStatus::MalformedRequest),
        Some(Ok(request)) => match ctx
            .engine()
            .folder_sync(&ctx.partnership, &request.sync_key)
            .await?
        {
            FolderSyncOutcome::InvalidSyncKey => {
                FolderSyncResponse::status(FolderSyncStatus::InvalidSyncKey)
            }
            FolderSyncOutcome::Changes(changes) => success(changes),
        },
    };
    record.eas_status = Some(response.status.code());
    Ok(CommandResponse::Wbxml(response.to_element()))
}

fn success(changes: FolderChanges) -> FolderSyncResponse {
    let wire = |f: easd_store::Folder| Folder {
        server_id: f.server_id,
        parent_id: f.parent_server_id,
        display_name: f.display_name,
        folder_type: u8::try_from(f.folder_type)
            .ok()
            .and_then(FolderType::from_code)
            .unwrap_or(FolderType::UserCreatedGeneric),
    };
    let mut list = Vec::new();
    list.extend(
        changes
            .updates
            .into_iter()
            .map(|f| FolderChange::Update(wire(f))),
    );
    list.extend(changes.deletes.into_iter().map(FolderChange::Delete));
    list.extend(changes.adds.into_iter().map(|f| FolderChange::Add(wire(f))));
    FolderSyncResponse {
        status: FolderSyncStatus::Success,
        sync_key: Some(changes.sync_key),
        changes: Some(list),
    }
}
