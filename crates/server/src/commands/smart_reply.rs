//! SmartReply (MS-ASCMD 2.2.1.20): a reply; the server quotes the original named by Source
//! (or, in 12.1, by the ItemId/CollectionId/LongId query parameters) below the client's text
//! unless ReplaceMime says the client's message is complete.

use super::send_mail::handle_smart;
use super::{CommandResponse, Ctx};
use crate::access_log::AccessRecord;
use easd_engine::EngineError;
use easd_protocol::commands::smart_reply::SmartReplyRequest;
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
        compose_mail::SMART_REPLY,
        SmartReplyRequest::parse,
        SmartReplyRequest::from_raw_mime,
    )
    .await
}
