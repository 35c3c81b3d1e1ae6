//! Find (MS-ASCMD 2.2.1.2, 16.1): a mailbox search (MailBoxSearchCriterion) or a GAL search
//! (GALSearchCriterion), results with a fixed set of display properties.

use super::{CommandResponse, Ctx};
use crate::access_log::AccessRecord;
use easd_engine::EngineError;
use easd_protocol::commands::find::{FindCriterion, FindRequest, FindResponse};
use easd_wbxml::tags::find;
use easd_wbxml::Element;

pub async fn handle(
    ctx: &Ctx,
    root: Option<Element>,
    record: &mut AccessRecord,
) -> Result<CommandResponse, EngineError> {
    let response = match root.as_ref().map(|r| (r, FindRequest::parse(r))) {
        // Status 2: the request does not validate (MS-ASCMD 2.2.3.177.2).
        None | Some((_, Err(_))) => FindResponse::protocol_error(),
        Some((root, Ok(mut request))) => {
            // Some clients (pyactivesync, after Exchange) put the GAL text directly in
            // Query rather than in FreeText: take it from there.
            if let FindCriterion::Gal { query, .. } = &mut request.criterion {
                if query.free_text.is_none() {
                    query.free_text = root
                        .child(find::EXECUTE_SEARCH)
                        .and_then(|e| e.child(find::GAL_SEARCH_CRITERION))
                        .and_then(|e| e.child(find::QUERY))
                        .and_then(Element::text);
                }
            }
            ctx.engine().find(&ctx.request.account, request).await?
        }
    };
    record.eas_status = Some(
        response
            .response
            .as_ref()
            .map_or(response.status.code(), |r| r.status.code()),
    );
    Ok(CommandResponse::Wbxml(response.to_element()))
}
