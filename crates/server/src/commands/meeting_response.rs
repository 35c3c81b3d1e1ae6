//! MeetingResponse (MS-ASCMD 2.2.1.11): accepts, tentatively accepts or declines meeting
//! requests; one Result per Request, with the calendar item's ServerId.

use super::{CommandResponse, Ctx};
use crate::access_log::AccessRecord;
use easd_engine::EngineError;
use easd_protocol::commands::meeting_response::{
    MeetingResponseRequest, MeetingResponseResponse, MeetingResponseResult, MeetingResponseStatus,
};
use easd_wbxml::Element;

pub async fn handle(
    ctx: &Ctx,
    root: Option<Element>,
    record: &mut AccessRecord,
) -> Result<CommandResponse, EngineError> {
    // The command has no top-level Status: a request that does not parse is a 400
    // (MS-ASHTTP 3.2.5.2).
    let request = match root.as_ref().map(MeetingResponseRequest::parse) {
        Some(Ok(request)) => request,
        None => return Ok(CommandResponse::bad_request("MeetingResponse needs a body")),
        Some(Err(e)) => {
            return Ok(CommandResponse::bad_request(format!(
                "malformed MeetingResponse: {e}"
            )))
        }
    };
    let mut results = Vec::with_capacity(request.requests.len());
    for r in &request.requests {
        let result = match ctx
            .engine()
            .meeting_response(&ctx.request.account, r, ctx.version())
            .await
        {
            Ok(result) => result,
            Err(e) => {
                // A store fault answers this Request with Status 4 (MS-ASCMD 2.2.3.177.9),
                // not the whole command with a 500.
                tracing::error!(user = %ctx.request.account.email, error = %e,
                    "MeetingResponse failed");
                MeetingResponseResult {
                    request_id: r.request_id.clone(),
                    status: MeetingResponseStatus::ServerError,
                    calendar_id: None,
                }
            }
        };
        results.push(result);
    }
    record.eas_status = results.first().map(|r| r.status.code());
    Ok(CommandResponse::Wbxml(
        MeetingResponseResponse { results }.to_element(),
    ))
}
