//! SmartReply (MS-ASCMD 2.2.1.20): a reply; the server quotes the original named by Source
//! (or, in 12.1, by the ItemId/CollectionId/LongId query parameters) below the client's text
//! unless ReplaceMime says the client's message is complete.

use super::send_mail::{reply, submit};
use super::{CommandResponse, Ctx};
use crate::access_log::AccessRecord;
use easd_engine::submission::{ComposeKind, Submission};
use easd_engine::EngineError;
use easd_protocol::commands::send_mail::{ComposeMailResponse, Source};
use easd_protocol::commands::smart_reply::SmartReplyRequest;
use easd_wbxml::tags::compose_mail;
use easd_wbxml::Element;

pub async fn handle(
    ctx: &Ctx,
    root: Option<Element>,
    record: &mut AccessRecord,
) -> Result<CommandResponse, EngineError> {
    let tag = compose_mail::SMART_REPLY;
    let q = &ctx.request.query;
    let request = match (root.as_ref(), ctx.raw_mime()) {
        (Some(root), _) => SmartReplyRequest::parse(root).ok(),
        (None, Some(mime)) => Some(SmartReplyRequest::from_raw_mime(
            mime,
            q.save_in_sent,
            Source::from_query(
                q.item_id.clone(),
                q.collection_id.clone(),
                q.long_id.clone(),
            ),
        )),
        (None, None) => None,
    };
    let Some(request) = request else {
        return Ok(reply(ComposeMailResponse::protocol_error(tag), record));
    };
    let submission = Submission {
        kind: ComposeKind::Reply,
        client_id: request.client_id,
        source: Some(request.source),
        replace_mime: request.replace_mime,
        save_in_sent: request.save_in_sent_items,
        mime: request.mime,
    };
    Ok(submit(ctx, tag, submission, record).await)
}
