//! SendMail (MS-ASCMD 2.2.1.17): a new message from the device. 14.0+ sends a ComposeMail
//! document; 12.1 sends the raw RFC 5322 message (Content-Type message/rfc822) with
//! SaveInSent=T in the query. The answer is an empty 200 on success, otherwise a SendMail
//! document with one of the common statuses (MS-ASCMD 2.2.2).
//!
//! SmartReply and SmartForward submit through [`submit`] too.

use super::{CommandResponse, Ctx};
use crate::access_log::AccessRecord;
use crate::config::Config;
use easd_engine::submission::{ComposeKind, Relay, Submission};
use easd_engine::EngineError;
use easd_protocol::commands::send_mail::{ComposeMailResponse, SendMailRequest};
use easd_protocol::status::CommonStatus;
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
    let submission = Submission {
        kind: ComposeKind::New,
        client_id: request.client_id,
        source: None,
        replace_mime: false,
        save_in_sent: request.save_in_sent_items,
        mime: request.mime,
    };
    Ok(submit(ctx, tag, submission, record).await)
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
