//! ResolveRecipients (MS-ASCMD 2.2.1.15): resolves names and addresses against the GAL,
//! with free/busy and certificates on request.

use super::{CommandResponse, Ctx};
use crate::access_log::AccessRecord;
use easd_engine::EngineError;
use easd_protocol::commands::resolve_recipients::{
    ResolveRecipientsRequest, ResolveRecipientsResponse, ResolveRecipientsStatus,
};
use easd_wbxml::Element;

pub async fn handle(
    ctx: &Ctx,
    root: Option<Element>,
    record: &mut AccessRecord,
) -> Result<CommandResponse, EngineError> {
    let response = match root.as_ref().map(ResolveRecipientsRequest::parse) {
        // Status 5: protocol error (MS-ASCMD 2.2.3.177.12).
        None | Some(Err(_)) => {
            ResolveRecipientsResponse::status(ResolveRecipientsStatus::ProtocolError)
        }
        Some(Ok(request)) => ctx.engine().resolve_recipients(request).await?,
    };
    record.eas_status = Some(response.status.code());
    Ok(CommandResponse::Wbxml(response.to_element()))
}
