//! SendMail (MS-ASCMD 2.2.1.17): a new message from the device. 14.0+ sends a ComposeMail
//! document; 12.1 sends the raw RFC 5322 message (Content-Type message/rfc822) with
//! SaveInSent=T in the query. The answer is an empty 200 on success, otherwise a SendMail
//! document with one of the common statuses (MS-ASCMD 2.2.2).
//!
//! SmartReply and SmartForward submit through [`submit`] too.

use super::{CommandResponse, Ctx};
use crate::access_log::AccessRecord;
use crate::config::Config;
use easd_engine::submission::{Relay, Submission};
use easd_engine::EngineError;
use easd_protocol::commands::send_mail::{ComposeMailResponse, SendMailRequest, Source};
use easd_protocol::status::CommonStatus;
use easd_protocol::ParseError;
use easd_wbxml::tags::compose_mail;
use easd_wbxml::Element;

pub async fn handle(
    ctx: &Ctx,
    root: Option<Element>,
    record: &mut AccessRecord,
) -> Result<CommandResponse, EngineError> {
    let tag = compose_mail::SEND_MAIL;
    let request = match (root.as_ref(), ctx.raw_mime()) {
        (Some(root), _) => SendMailRequest::parse(root).ok(),
        // 12.1: the body is the message (MS-ASCMD 2.2.1.17, MS-ASHTTP 2.2.1.1.1.2).
        (None, Some(mime)) => Some(SendMailRequest::from_raw_mime(
            mime,
            ctx.request.query.save_in_sent,
        )),
        (None, None) => None,
    };
    let Some(request) = request else {
        return Ok(reply(ComposeMailResponse::protocol_error(tag), record));
    };
    Ok(submit(ctx, tag, request.into(), record).await)
}

/// SmartReply and SmartForward: the request from its document, or in 12.1 from the raw
/// MIME body with the original named by the ItemId/CollectionId/LongId query parameters.
pub(super) async fn handle_smart<R: Into<Submission>>(
    ctx: &Ctx,
    root: Option<Element>,
    record: &mut AccessRecord,
    tag: easd_wbxml::Tag,
    parse: fn(&Element) -> Result<R, ParseError>,
    from_raw_mime: fn(Vec<u8>, bool, Source) -> R,
) -> Result<CommandResponse, EngineError> {
    let q = &ctx.request.query;
    let request = match (root.as_ref(), ctx.raw_mime()) {
        (Some(root), _) => parse(root).ok(),
        (None, Some(mime)) => Some(from_raw_mime(
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
    Ok(submit(ctx, tag, request.into(), record).await)
}

/// The smarthost of the configuration, if one is set.
pub fn relay(config: &Config) -> Option<Relay> {
    let address = config
        .smarthost
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())?;
    Some(Relay {
        address: address.to_owned(),
        user: config.smarthost_user.clone().filter(|s| !s.is_empty()),
        password: config.smarthost_password.clone(),
        hello_name: config.hostname.clone(),
    })
}

/// Submits through the engine and writes the ComposeMail answer for `tag` (SendMail,
/// SmartReply or SmartForward).
pub(super) async fn submit(
    ctx: &Ctx,
    tag: easd_wbxml::Tag,
    submission: Submission,
    record: &mut AccessRecord,
) -> CommandResponse {
    let kind = submission.kind;
    match ctx
        .engine()
        .submit(
            &ctx.request.account,
            submission,
            ctx.engine().settings.relay.as_ref(),
        )
        .await
    {
        Ok(Ok(sent)) => {
            tracing::info!(
                user = %ctx.request.account.email,
                ?kind,
                message_id = %sent.message_id,
                local = sent.local.len(),
                remote = sent.remote.len(),
                "message submitted"
            );
            record.eas_status = Some(1);
            record.items_received = 1;
            CommandResponse::Empty
        }
        Ok(Err(refusal)) => {
            tracing::info!(
                user = %ctx.request.account.email,
                ?kind,
                status = refusal.status.code(),
                reason = %refusal.reason,
                "message refused"
            );
            reply(ComposeMailResponse::failure(tag, refusal.status), record)
        }
        Err(e) => {
            // A server fault: the ComposeMail Status for it is 110 (MS-ASCMD 2.2.2).
            tracing::error!(user = %ctx.request.account.email, ?kind, error = %e, "submission failed");
            reply(
                ComposeMailResponse::failure(tag, CommonStatus::ServerError),
                record,
            )
        }
    }
}

pub(super) fn reply(response: ComposeMailResponse, record: &mut AccessRecord) -> CommandResponse {
    record.eas_status = Some(response.status.map_or(1, |s| s.code()));
    match response.body() {
        Some(body) => CommandResponse::Wbxml(body),
        None => CommandResponse::Empty,
    }
}
