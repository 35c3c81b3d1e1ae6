//! GetItemEstimate (MS-ASCMD 2.2.1.9): the number of changes the next Sync of each
//! collection would bring; one Response per Collection.

use super::{CommandResponse, Ctx};
use crate::access_log::AccessRecord;
use easd_engine::EngineError;
use easd_protocol::commands::get_item_estimate::{
    EstimateResponse, GetItemEstimateRequest, GetItemEstimateResponse,
};
use easd_protocol::status::GetItemEstimateStatus;
use easd_protocol::{CommonStatus, ProtocolVersion};
use easd_wbxml::Element;

pub async fn handle(
    ctx: &Ctx,
    root: Option<Element>,
    record: &mut AccessRecord,
) -> Result<CommandResponse, EngineError> {
    let request = match root.as_ref().map(GetItemEstimateRequest::parse) {
        Some(Ok(request)) => request,
        // MS-ASCMD 2.2.2: 103 InvalidXML from 14.0 on; a 400 before (MS-ASHTTP 3.2.5.2).
        _ if ctx.version() >= ProtocolVersion::V14_0 => {
            let status = GetItemEstimateStatus::Common(CommonStatus::InvalidXML);
            record.eas_status = Some(status.code());
            let response = GetItemEstimateResponse {
                responses: vec![EstimateResponse {
                    status,
                    collection_id: None,
                    estimate: None,
                }],
            };
            return Ok(CommandResponse::Wbxml(response.to_element()));
        }
        _ => return Ok(CommandResponse::bad_request("malformed GetItemEstimate")),
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let responses = ctx
        .engine()
        .item_estimates(&ctx.partnership, request.collections, now)
        .await?;
    record.eas_status = responses.first().map(|r| r.status.code());
    Ok(CommandResponse::Wbxml(
        GetItemEstimateResponse { responses }.to_element(),
    ))
}
