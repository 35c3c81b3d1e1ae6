//! One file per EAS command, each in three steps: parse the WBXML into the command's typed
//! request (`protocol`), apply it through the engine, write the typed response.

mod access;
mod find;
mod folder_create;
mod folder_delete;
mod folder_sync;
mod folder_update;
mod get_item_estimate;
mod item_operations;
mod meeting_response;
mod move_items;
mod ping;
mod provision;
mod resolve_recipients;
mod search;
mod send_mail;
pub(crate) use send_mail::relay;
mod settings;
mod smart_forward;
mod smart_reply;
mod sync;
mod validate_cert;

use crate::access_log::AccessRecord;
use crate::app::App;
use axum::body::Bytes;
use axum::http::StatusCode;
use easd_engine::devices::PolicyVerdict;
use easd_engine::EngineError;
use easd_protocol::{Command, ProtocolVersion, RequestQuery};
use easd_store::{Account, Partnership};
use easd_wbxml::Element;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// An authenticated EAS request, before its partnership is looked up.
pub struct EasRequest {
    pub app: Arc<App>,
    pub account: Account,
    pub query: RequestQuery,
    pub version: ProtocolVersion,
    pub policy_key: Option<u32>,
    pub user_agent: String,
    pub content_type: String,
    pub accept_multipart: bool,
    /// False while the device's requests are logged (the log needs the whole response).
    pub may_stream: bool,
}

/// What a command handler sees: the request and the device's partnership.
pub struct Ctx {
    pub request: EasRequest,
    pub partnership: Partnership,
    /// The policy of the user now (Provision hands it out).
    pub policy: easd_engine::policy::AssignedPolicy,
    /// The body of a 12.1 SendMail/SmartReply/SmartForward that carries raw MIME rather
    /// than WBXML (MS-ASCMD 2.2.1.17); empty for every other request.
    pub raw_body: Bytes,
}

impl Ctx {
    pub fn app(&self) -> &Arc<App> {
        &self.request.app
    }

    pub fn engine(&self) -> &Arc<easd_engine::Engine> {
        &self.request.app.engine
    }

    pub fn version(&self) -> ProtocolVersion {
        self.request.version
    }

    /// The raw MIME message of a 12.1 ComposeMail request, if that is what came.
    pub fn raw_mime(&self) -> Option<Vec<u8>> {
        (!self.raw_body.is_empty()).then(|| self.raw_body.to_vec())
    }
}

/// A command's handler, running.
type CommandFuture<'a> =
    Pin<Box<dyn Future<Output = Result<CommandResponse, EngineError>> + Send + 'a>>;

/// A command's answer, before HTTP.
pub enum CommandResponse {
    Wbxml(Element),
    Bytes {
        content_type: &'static str,
        bytes: Vec<u8>,
    },
    /// WBXML written while it is made (a large Sync response).
    Stream(axum::body::Body),
    /// 200 with no body (MS-ASCMD: e.g. an empty Sync response, a successful SendMail).
    Empty,
    /// An HTTP-level refusal (400 malformed, 403 blocked, 449 re-provision below 14.0...).
    Status(StatusCode, String),
}

impl CommandResponse {
    pub fn bad_request(message: impl std::fmt::Display) -> Self {
        CommandResponse::Status(StatusCode::BAD_REQUEST, message.to_string())
    }
}

/// The commands this server implements, for OPTIONS (MS-ASHTTP 2.2.2.2.1).
pub const IMPLEMENTED: &[Command] = &[
    Command::FolderSync,
    Command::FolderCreate,
    Command::FolderUpdate,
    Command::FolderDelete,
    Command::Provision,
    Command::Settings,
    Command::ResolveRecipients,
    Command::ValidateCert,
    Command::Sync,
    Command::Ping,
    Command::SendMail,
    Command::SmartReply,
    Command::SmartForward,
    Command::Search,
    Command::Find,
    Command::MoveItems,
    Command::GetItemEstimate,
    Command::ItemOperations,
    Command::MeetingResponse,
];

pub fn implemented_commands_header() -> String {
    IMPLEMENTED
        .iter()
        .map(|c| c.name())
        .collect::<Vec<_>>()
        .join(",")
}

/// Runs one EAS command: the shared checks, then the command.
///
/// Not an `async fn` (whose future holds its arguments twice, rust-lang/rust#62958): the
/// checks are boxed before the command's future captures them, so while the command runs
/// (a parked Ping: up to an hour) this future holds the `Ctx` once and nothing else of the
/// checks.
pub fn dispatch<'a>(
    request: EasRequest,
    body: Bytes,
    record: &'a mut AccessRecord,
) -> impl Future<Output = CommandResponse> + Send + 'a {
    let command = request.query.command;
    let engine = request.app.engine.clone();
    let checking = Box::pin(check(request, body, record));
    async move {
        let (response, partnership, record) = match checking.await {
            Ok((ctx, root, record)) => {
                let response = run(command, &ctx, root, record).await;
                (response, Some(ctx.partnership.id), record)
            }
            Err(refused) => (refused.response, refused.partnership, refused.record),
        };
        // Statistics per device (Get-MobileDeviceStatistics); not for a Ping that simply
        // ended: parked phones would cost a write each, and Ping keeps its own last time.
        if let (Some(id), Some(activity)) = (partnership, activity(command, &response, record)) {
            if let Err(e) = engine.record_activity(id, activity).await {
                tracing::warn!(partnership = id.0, error = %e, "device statistics not recorded");
            }
        }
        response
    }
}

async fn run(
    command: Command,
    ctx: &Ctx,
    root: Option<Element>,
    record: &mut AccessRecord,
) -> CommandResponse {
    // Each command's future is boxed on its own, in a statement of its own (a temporary would
    // stay in this future's state across the await): otherwise every request, a parked Ping
    // too, would hold room for the biggest command's future (measured by `easd bench ping`).
    let running: CommandFuture<'_> = match command {
        Command::FolderSync => Box::pin(folder_sync::handle(ctx, root, record)),
        Command::Provision => Box::pin(provision::handle(ctx, root, record)),
        Command::FolderCreate => Box::pin(folder_create::handle(ctx, root, record)),
        Command::FolderUpdate => Box::pin(folder_update::handle(ctx, root, record)),
        Command::FolderDelete => Box::pin(folder_delete::handle(ctx, root, record)),
        Command::Settings => Box::pin(settings::handle(ctx, root, record)),
        Command::ResolveRecipients => Box::pin(resolve_recipients::handle(ctx, root, record)),
        Command::ValidateCert => Box::pin(validate_cert::handle(ctx, root, record)),
        Command::Sync => Box::pin(sync::handle(ctx, root, record)),
        Command::Ping => Box::pin(ping::handle(ctx, root, record)),
        Command::SendMail => Box::pin(send_mail::handle(ctx, root, record)),
        Command::SmartReply => Box::pin(smart_reply::handle(ctx, root, record)),
        Command::SmartForward => Box::pin(smart_forward::handle(ctx, root, record)),
        Command::Search => Box::pin(search::handle(ctx, root, record)),
        Command::Find => Box::pin(find::handle(ctx, root, record)),
        Command::MoveItems => Box::pin(move_items::handle(ctx, root, record)),
        Command::GetItemEstimate => Box::pin(get_item_estimate::handle(ctx, root, record)),
        Command::ItemOperations => Box::pin(item_operations::handle(ctx, root, record)),
        Command::MeetingResponse => Box::pin(meeting_response::handle(ctx, root, record)),
        _ => Box::pin(async { Ok(CommandResponse::bad_request("not implemented")) }),
    };
    let result = running.await;
    match result {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(command = command.name(), error = %e, "command failed");
            CommandResponse::Status(StatusCode::INTERNAL_SERVER_ERROR, "server error".into())
        }
    }
}

/// What the checks hand the command: its context, the decoded body, and the access-log
/// record (lent to the checks, which fill it in too).
type Checked<'a> = (Ctx, Option<Element>, &'a mut AccessRecord);

/// A request the checks answered themselves.
struct Refused<'a> {
    response: CommandResponse,
    /// The device, once known: the refusal counts in its statistics.
    partnership: Option<easd_store::PartnershipId>,
    record: &'a mut AccessRecord,
}

/// The checks every command shares: the body decoded, the partnership looked up, device
/// access, the policy key. Err is the answer that ends the request there.
async fn check(
    request: EasRequest,
    body: Bytes,
    record: &mut AccessRecord,
) -> Result<Checked<'_>, Refused<'_>> {
    let command = request.query.command;
    let refuse = |response, record| Refused {
        response,
        partnership: None,
        record,
    };
    if !IMPLEMENTED.contains(&command) {
        let response =
            CommandResponse::bad_request(format!("{} is not implemented", command.name()));
        return Err(refuse(response, record));
    }
    // Malformed input is refused before anything is looked up or written (MS-ASHTTP 3.2.5.2).
    // 12.1 SendMail, SmartReply and SmartForward send the message itself (message/rfc822).
    let raw_mime = matches!(
        command,
        Command::SendMail | Command::SmartReply | Command::SmartForward
    ) && !body.is_empty()
        && !request.content_type.contains("wbxml");
    let root = if body.is_empty() {
        None
    } else if raw_mime {
        // 12.1 SendMail carries raw MIME (MS-ASCMD 2.2.1.17); handled by the command.
        None
    } else {
        match easd_wbxml::decode(&body) {
            Ok(root) => Some(root),
            Err(e) => {
                let response = CommandResponse::bad_request(format!("malformed WBXML: {e}"));
                return Err(refuse(response, record));
            }
        }
    };
    let engine = request.app.engine.clone();
    // Boxed in its own statement too: inline, its state would size this whole future.
    let contact = Box::pin(engine.device_contact(
        request.account.id,
        easd_engine::devices::DeviceContact {
            device_id: request.query.device_id.clone(),
            device_type: request.query.device_type.clone(),
            user_agent: request.user_agent.clone(),
            protocol_version: request.version.as_str().to_owned(),
        },
    ));
    let partnership = match contact.await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "partnership lookup failed");
            return Err(refuse(unavailable(), record));
        }
    };
    let partnership_id = partnership.id;
    admit(request, partnership, root, body, raw_mime, record)
        .await
        .map_err(|(response, record)| Refused {
            response,
            partnership: Some(partnership_id),
            record,
        })
}

fn unavailable() -> CommandResponse {
    CommandResponse::Status(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily unavailable".into(),
    )
}

/// The device's statistics entry for one answered request.
fn activity(
    command: Command,
    response: &CommandResponse,
    record: &AccessRecord,
) -> Option<easd_store::PartnershipActivity> {
    let failure = match response {
        CommandResponse::Status(status, _) => Some(format!("HTTP {}", status.as_u16())),
        _ => match record.eas_status {
            Some(s) if s != 1 => Some(format!("Status {s}")),
            _ => None,
        },
    };
    if command == Command::Ping && failure.is_none() {
        return None;
    }
    let synced = failure.is_none() && matches!(command, Command::Sync | Command::FolderSync);
    Some(easd_store::PartnershipActivity {
        at: time::OffsetDateTime::now_utc().unix_timestamp(),
        synced,
        items_sent: i64::from(record.items_sent),
        items_received: i64::from(record.items_received),
        error: failure.map(|f| format!("{}: {f}", command.name())),
    })
}

/// Device access, remote wipe and the policy key (MS-ASPROV 3.2.5.1.2).
async fn admit(
    request: EasRequest,
    partnership: Partnership,
    root: Option<Element>,
    body: Bytes,
    raw_mime: bool,
    record: &mut AccessRecord,
) -> Result<Checked<'_>, (CommandResponse, &mut AccessRecord)> {
    let command = request.query.command;
    let engine = request.app.engine.clone();
    // Device access and remote wipe (invariant 8; MS-ASPROV 3.2.5.1.2.2), before the policy key.
    let partnership = match engine.device_access(&request.account, partnership).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "device access evaluation failed");
            return Err((unavailable(), record));
        }
    };
    if let Some(refusal) =
        access::gate(command, &request, &partnership, root.as_ref(), record).await
    {
        return Err((refusal, record));
    }
    let policy = match engine.policy_for(&request.account.email).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "reading the policies failed");
            return Err((unavailable(), record));
        }
    };
    if command != Command::Provision {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let verdict =
            easd_engine::devices::check_policy_key(&partnership, request.policy_key, &policy, now);
        if let PolicyVerdict::Reprovision(status) = verdict {
            tracing::info!(device = %partnership.device_id, status = status.code(),
                policy = %policy.tag(), acknowledged = %partnership.provisioned_policy,
                "the device must provision first");
            record.eas_status = Some(status.code());
            // MS-ASPROV 3.2.5.1.2: HTTP 449 below 14.0; the command's Status from 14.0.
            if request.version < ProtocolVersion::V14_0 {
                let response = CommandResponse::Status(
                    StatusCode::from_u16(449).unwrap_or(StatusCode::FORBIDDEN),
                    "Retry after sending a Provision command".into(),
                );
                return Err((response, record));
            }
            let mut root = Element::new(command_root(command));
            root.push_text(status_tag(command), status.code().to_string());
            return Err((CommandResponse::Wbxml(root), record));
        }
    }
    let raw_body = if raw_mime { body } else { Bytes::new() };
    let ctx = Ctx {
        request,
        partnership,
        policy,
        raw_body,
    };
    Ok((ctx, root, record))
}

fn command_root(command: Command) -> easd_wbxml::Tag {
    use easd_wbxml::tags::*;
    match command {
        Command::Sync => airsync::SYNC,
        Command::FolderSync => folder_hierarchy::FOLDER_SYNC,
        Command::FolderCreate => folder_hierarchy::FOLDER_CREATE,
        Command::FolderUpdate => folder_hierarchy::FOLDER_UPDATE,
        Command::FolderDelete => folder_hierarchy::FOLDER_DELETE,
        Command::ResolveRecipients => easd_wbxml::tags::resolve_recipients::RESOLVE_RECIPIENTS,
        Command::ValidateCert => easd_wbxml::tags::validate_cert::VALIDATE_CERT,
        Command::Ping => ping::PING,
        Command::Settings => settings::SETTINGS,
        Command::Provision => provision::PROVISION,
        Command::SendMail => compose_mail::SEND_MAIL,
        Command::SmartReply => compose_mail::SMART_REPLY,
        Command::SmartForward => compose_mail::SMART_FORWARD,
        Command::Search => easd_wbxml::tags::search::SEARCH,
        Command::Find => easd_wbxml::tags::find::FIND,
        Command::MoveItems => move_::MOVE_ITEMS,
        Command::GetItemEstimate => easd_wbxml::tags::get_item_estimate::GET_ITEM_ESTIMATE,
        Command::ItemOperations => easd_wbxml::tags::item_operations::ITEM_OPERATIONS,
        Command::MeetingResponse => easd_wbxml::tags::meeting_response::MEETING_RESPONSE,
        _ => airsync::SYNC,
    }
}

fn status_tag(command: Command) -> easd_wbxml::Tag {
    use easd_wbxml::tags::*;
    match command {
        Command::FolderSync
        | Command::FolderCreate
        | Command::FolderUpdate
        | Command::FolderDelete => folder_hierarchy::STATUS,
        Command::ResolveRecipients => easd_wbxml::tags::resolve_recipients::STATUS,
        Command::ValidateCert => easd_wbxml::tags::validate_cert::STATUS,
        Command::Ping => ping::STATUS,
        Command::Settings => settings::STATUS,
        Command::Provision => provision::STATUS,
        Command::SendMail | Command::SmartReply | Command::SmartForward => compose_mail::STATUS,
        Command::Search => easd_wbxml::tags::search::STATUS,
        Command::Find => easd_wbxml::tags::find::STATUS,
        Command::MoveItems => move_::STATUS,
        Command::GetItemEstimate => easd_wbxml::tags::get_item_estimate::STATUS,
        Command::ItemOperations => easd_wbxml::tags::item_operations::STATUS,
        Command::MeetingResponse => easd_wbxml::tags::meeting_response::STATUS,
        _ => airsync::STATUS,
    }
}
