//! MoveItems (MS-ASCMD 2.2.1.12): moves items from one folder to another; one Response per
//! Move, with the item's new ServerId on success (Status 3).

use super::{CommandResponse, Ctx};
use crate::access_log::AccessRecord;
use easd_engine::EngineError;
use easd_protocol::commands::move_items::{MoveItemsRequest, MoveItemsResponse};
use easd_wbxml::Element;

pub async fn handle(
    ctx: &Ctx,
    root: Option<Element>,
    record: &mut AccessRecord,
) -> Result<CommandResponse, EngineError> {
    // The response has no status of its own for a request that does not parse: 400
    // (MS-ASHTTP 3.2.5.2).
    let request = match root.as_ref().map(MoveItemsRequest::parse) {
        Some(Ok(request)) => request,
        None => return Ok(CommandResponse::bad_request("MoveItems needs a body")),
        Some(Err(e)) => {
            return Ok(CommandResponse::bad_request(format!(
                "malformed MoveItems: {e}"
            )))
        }
    };
    let responses = ctx
        .engine()
        .move_items(&ctx.partnership, request.moves)
        .await?;
    record.eas_status = responses.first().map(|r| r.status.code());
    Ok(CommandResponse::Wbxml(
        MoveItemsResponse { responses }.to_element(),
    ))
}
