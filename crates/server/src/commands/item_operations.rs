//! ItemOperations (MS-ASCMD 2.2.1.10): Fetch, EmptyFolderContents and Move, answered in
//! order; inline (content base64 in Data) or, when the client accepts it, as a multipart
//! body (MS-ASCMD 2.2.1.10.1.1; MS-ASHTTP 2.2.1.1.2.5 MS-ASAcceptMultiPart header, or the
//! AcceptMultiPart option of the base64 query).

use super::{CommandResponse, Ctx};
use crate::access_log::AccessRecord;
use easd_engine::EngineError;
use easd_protocol::commands::item_operations::{ItemOperationsRequest, ItemOperationsResponse};
use easd_protocol::status::ItemOperationsStatus;
use easd_wbxml::Element;

/// The content type of a multipart response (MS-ASCMD 2.2.1.10.1.1).
const MULTIPART: &str = "application/vnd.ms-sync.multipart";

pub async fn handle(
    ctx: &Ctx,
    root: Option<Element>,
    record: &mut AccessRecord,
) -> Result<CommandResponse, EngineError> {
    let response = match root.as_ref().map(ItemOperationsRequest::parse) {
        // Status 2: protocol error (MS-ASCMD 2.2.3.177.8).
        None | Some(Err(_)) => ItemOperationsResponse::protocol_error(),
        Some(Ok(request)) => {
            let responses = ctx
                .engine()
                .item_operations(&ctx.partnership, request.operations, ctx.version())
                .await?;
            ItemOperationsResponse {
                status: ItemOperationsStatus::Success,
                responses,
            }
        }
    };
    record.eas_status = Some(response.status.code());
    if ctx.request.accept_multipart || ctx.request.query.accept_multipart {
        return Ok(CommandResponse::Bytes {
            content_type: MULTIPART,
            bytes: response.to_multipart(),
        });
    }
    Ok(CommandResponse::Wbxml(response.to_element()))
}
