//! Search (MS-ASCMD 2.2.1.16): the mailbox (FreeText, Class, CollectionId, ConversationId,
//! DateReceived ranges), the GAL (the server's accounts), or a document library (not
//! reachable here).

use super::{CommandResponse, Ctx};
use crate::access_log::AccessRecord;
use easd_engine::EngineError;
use easd_protocol::commands::search::{SearchRequest, SearchResponse};
use easd_wbxml::Element;

pub async fn handle(
    ctx: &Ctx,
    root: Option<Element>,
    record: &mut AccessRecord,
) -> Result<CommandResponse, EngineError> {
    let response = match root.as_ref().map(SearchRequest::parse) {
        // Store Status 2: the request does not parse (MS-ASCMD 2.2.3.177.13).
        None | Some(Err(_)) => SearchResponse::protocol_error(),
        Some(Ok(request)) => {
            ctx.engine()
                .search(&ctx.request.account, request, ctx.version())
                .await?
        }
    };
    // The Store's status says more than the command's (which is 1 unless the server fails).
    record.eas_status = Some(
        response
            .store
            .as_ref()
            .map_or(response.status.code(), |s| s.status.code()),
    );
    Ok(CommandResponse::Wbxml(response.to_element()))
}
