//! ValidateCert (MS-ASCMD 2.2.1.22): validates the certificates of an S/MIME message, one
//! Status per certificate.

use super::{CommandResponse, Ctx};
use crate::access_log::AccessRecord;
use easd_engine::EngineError;
use easd_protocol::commands::validate_cert::{
    ValidateCertRequest, ValidateCertResponse, ValidateCertStatus,
};
use easd_wbxml::Element;

pub async fn handle(
    _ctx: &Ctx,
    root: Option<Element>,
    record: &mut AccessRecord,
) -> Result<CommandResponse, EngineError> {
    let response = match root.as_ref().map(ValidateCertRequest::parse) {
        // Status 2: protocol error (MS-ASCMD 2.2.3.177.18).
        None | Some(Err(_)) => ValidateCertResponse::status(ValidateCertStatus::ProtocolError),
        Some(Ok(request)) => {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            easd_engine::certificates::validate_cert(&request, now)
        }
    };
    record.eas_status = Some(response.status.code());
    Ok(CommandResponse::Wbxml(response.to_element()))
}
