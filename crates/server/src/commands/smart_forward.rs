//! SmartForward (MS-ASCMD 2.2.1.19): a forward; the server adds the original named by
//! Source (or, in 12.1, by the ItemId/CollectionId/LongId query parameters) with its
//! attachments unless ReplaceMime says the client's message is complete.

use super::send_mail::handle_smart;
use super::{CommandResponse, Ctx};
use crate::access_log::AccessRecord;
use easd_engine::EngineError;
use easd_protocol::commands::smart_forward::SmartForwardRequest;
use easd_wbxml::tags::compose_mail;
use easd_wbxml::Element;

pub async fn handle(
    ctx: &Ctx,
    root: Option<Element>,
    record: &mut AccessRecord,
) -> Result<CommandResponse, EngineError> {
    handle_smart(
        ctx,
        root,
        record,
        compose_mail::SMART_FORWARD,
        SmartForwardRequest::parse,
        SmartForwardRequest::from_raw_mime,
    )
    .await
}
