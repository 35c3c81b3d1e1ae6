//! The MS-ASHTTP front door on /Microsoft-Server-ActiveSync: OPTIONS, and POST with the
//! query (plain or base64), the headers, authentication, the partnership and the policy
//! key, before the command itself runs (`commands/`).

use crate::access_log::AccessRecord;
use crate::app::{text_error, App};
use crate::auth::{login_name, Credentials, Gate};
use crate::commands::{self, CommandResponse, EasRequest};
use crate::listener::ConnInfo;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use easd_protocol::version::SUPPORTED_VERSIONS;
use easd_protocol::{ProtocolVersion, RequestQuery};
use easd_store::Account;
use std::sync::Arc;

/// MS-ASHTTP 2.2.2.2 (OPTIONS response): the versions and the commands we implement.
pub async fn options() -> Response {
    let mut response = StatusCode::OK.into_response();
    let h = response.headers_mut();
    h.insert("MS-Server-ActiveSync", HeaderValue::from_static("16.1"));
    h.insert(
        "MS-ASProtocolVersions",
        HeaderValue::from_static(SUPPORTED_VERSIONS),
    );
    if let Ok(v) = HeaderValue::from_str(&commands::implemented_commands_header()) {
        h.insert("MS-ASProtocolCommands", v);
    }
    h.insert(header::ALLOW, HeaderValue::from_static("OPTIONS,POST"));
    h.insert("Public", HeaderValue::from_static("OPTIONS,POST"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    response
}

/// A browser or a health check opening the URL: not an EAS request.
pub async fn get() -> Response {
    text_error(
        StatusCode::BAD_REQUEST,
        "this is an Exchange ActiveSync endpoint: POST only",
    )
}

/// Why a request was refused before its command ran.
fn unauthorized(message: &str) -> Response {
    let mut response = text_error(StatusCode::UNAUTHORIZED, message);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"easd\""),
    );
    response
}

/// POST: admission (body, query, version, credentials), then the command.
///
/// Not an `async fn` (whose future holds its arguments twice, rust-lang/rust#62958):
/// admission is boxed before the future that waits on the command captures it, so while the
/// command runs (a parked Ping: up to an hour) none of the request's header fields, body or
/// admission state is kept.
pub fn post(
    State(app): State<Arc<App>>,
    conn: Option<Extension<ConnInfo>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> impl std::future::Future<Output = Response> + Send {
    let admitting = Box::pin(admit(app, conn.map(|c| c.0), query, headers, body));
    async move {
        let (admitted, mut record) = admitting.await;
        let admitted = match admitted {
            Ok(admitted) => admitted,
            Err(response) => return with_record(response, record),
        };
        let Admitted {
            request,
            body,
            capture,
            version,
        } = admitted;
        let response = commands::dispatch(request, body, &mut record).await;
        if let Some(capture) = capture {
            let summary = capture.summary(&response);
            capture.finish(summary).await;
        }
        with_record(into_http(response, version), record)
    }
}

fn with_record(mut response: Response, record: AccessRecord) -> Response {
    response.extensions_mut().insert(record);
    response
}

/// A request admitted to run its command.
struct Admitted {
    request: EasRequest,
    body: Bytes,
    capture: Option<crate::device_log::Capture>,
    version: ProtocolVersion,
}

/// Reads the body and checks the query, the protocol version and the credentials: the
/// request to run, or the answer that refuses it; with the access-log record either way.
async fn admit(
    app: Arc<App>,
    conn: Option<ConnInfo>,
    query: Option<String>,
    headers: HeaderMap,
    body: Body,
) -> (Result<Admitted, Response>, AccessRecord) {
    let mut record = AccessRecord::default();
    let admitted = admit_into(&app, conn, query, &headers, body, &mut record).await;
    (admitted, record)
}

async fn admit_into(
    app: &Arc<App>,
    conn: Option<ConnInfo>,
    query: Option<String>,
    headers: &HeaderMap,
    body: Body,
    record: &mut AccessRecord,
) -> Result<Admitted, Response> {
    // Read the body first, even for requests refused below: a keep-alive connection whose
    // request body was left unread is closed, and the client's next request on it fails.
    let body = match axum::body::to_bytes(body, app.config.max_request_bytes).await {
        Ok(b) => b,
        Err(_) => {
            return Err(text_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large",
            ))
        }
    };
    let query = match RequestQuery::parse(query.as_deref().unwrap_or("")) {
        Ok(q) => q,
        Err(e) => {
            return Err(text_error(
                StatusCode::BAD_REQUEST,
                format!("bad request query: {e}"),
            ))
        }
    };
    record.command = Some(query.command.name());
    record.device_id = Some(query.device_id.clone());
    record.device_type = Some(query.device_type.clone());
    record.user = query.user.clone();

    let version = protocol_version(&query, headers)?;
    record.protocol_version = Some(version.as_str().to_owned());

    let Some(credentials) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Credentials::parse(v).ok())
    else {
        return Err(unauthorized("credentials required"));
    };
    record.user = Some(login_name(&credentials));
    let ip = conn
        .map(|c| c.peer.ip())
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
    let account = authenticate(app, ip, &credentials).await?;

    let policy_key = policy_key(&query, headers);
    let request = EasRequest {
        app: app.clone(),
        account,
        query,
        version,
        policy_key,
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(256)
            .collect(),
        content_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase(),
        accept_multipart: headers
            .get("MS-ASAcceptMultiPart")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("t")),
        may_stream: true,
    };
    // Mailbox logging per device, when enabled (crate::device_log).
    let mut request = request;
    let capture = crate::device_log::Capture::start(
        app,
        request.account.id,
        &request.account.email,
        &request.query.device_id,
        request.query.command.name(),
        headers,
        &body,
    )
    .await;
    request.may_stream = capture.is_none();
    Ok(Admitted {
        request,
        body,
        capture,
        version,
    })
}

/// MS-ASHTTP 2.2.1.1.2.6: the version comes from the base64 query or the header.
#[allow(clippy::result_large_err)]
fn protocol_version(
    query: &RequestQuery,
    headers: &HeaderMap,
) -> Result<ProtocolVersion, Response> {
    if let Some(v) = query.protocol_version {
        return Ok(v);
    }
    // The plain form carries the version in a header (the base64 form in the query).
    let unsupported = |message: String| {
        let mut r = text_error(StatusCode::BAD_REQUEST, message);
        r.headers_mut().insert(
            "MS-ASProtocolVersions",
            HeaderValue::from_static(SUPPORTED_VERSIONS),
        );
        r
    };
    match headers
        .get("MS-ASProtocolVersion")
        .and_then(|v| v.to_str().ok())
    {
        Some(text) => text
            .trim()
            .parse::<ProtocolVersion>()
            .map_err(|_| unsupported(format!("protocol version {text:?} is not supported"))),
        None => Err(unsupported("MS-ASProtocolVersion header missing".into())),
    }
}

fn policy_key(query: &RequestQuery, headers: &HeaderMap) -> Option<u32> {
    query.policy_key.or_else(|| {
        headers
            .get("X-MS-PolicyKey")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| easd_protocol::http::parse_policy_key_header(v).ok())
    })
}

/// Verifies Basic credentials: the cached verdict when there is one, argon2id otherwise,
/// with repeated failures slowed and then refused.
#[allow(clippy::result_large_err)]
async fn authenticate(
    app: &Arc<App>,
    ip: std::net::IpAddr,
    credentials: &Credentials,
) -> Result<Account, Response> {
    let login = login_name(credentials);
    let lookup = login.clone();
    let account = app
        .engine
        .blocking(move |store| easd_engine::delivery::account_for_login(store, &lookup))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "account lookup failed");
            text_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable")
        })?;
    if let Some(account) = &account {
        if app
            .verdicts
            .check(credentials, account.id.0, account.credential_generation)
        {
            return Ok(account.clone());
        }
    }
    match app.limiter.gate(ip, &login) {
        Gate::Locked(left) => {
            tracing::warn!(%ip, user = %login, seconds = left.as_secs(), "login refused: too many failures");
            crate::admin::metrics().auth_failure();
            return Err(unauthorized("too many failed logins; try again later"));
        }
        Gate::SlowDown(delay) => tokio::time::sleep(delay).await,
        Gate::Open => {}
    }
    let verified = match account {
        Some(account) => {
            let password = credentials.password.clone();
            let hash = account.password_hash.clone();
            let ok = tokio::task::spawn_blocking(move || {
                easd_store::password::verify_password(&password, &hash)
            })
            .await
            .unwrap_or(false);
            ok.then_some(account)
        }
        None => None,
    };
    match verified {
        Some(account) => {
            app.limiter.succeeded(ip, &login);
            app.verdicts
                .remember(credentials, account.id.0, account.credential_generation);
            Ok(account)
        }
        None => {
            if app.limiter.failed(ip, &login) {
                tracing::warn!(%ip, user = %login, "too many failed logins: locked out for a while");
            } else {
                tracing::info!(%ip, user = %login, "login failed");
            }
            crate::admin::metrics().auth_failure();
            Err(unauthorized("wrong user name or password"))
        }
    }
}

fn into_http(response: CommandResponse, version: ProtocolVersion) -> Response {
    let wbxml = |bytes: Vec<u8>| {
        let mut r = Response::new(Body::from(bytes));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/vnd.ms-sync.wbxml"),
        );
        r
    };
    let mut response = match response {
        CommandResponse::Wbxml(element) => wbxml(easd_wbxml::encode(&element)),
        CommandResponse::Stream(body) => {
            let mut r = Response::new(body);
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/vnd.ms-sync.wbxml"),
            );
            r
        }
        CommandResponse::Bytes {
            content_type,
            bytes,
        } => {
            let mut r = Response::new(Body::from(Bytes::from(bytes)));
            if let Ok(v) = HeaderValue::from_str(content_type) {
                r.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            r
        }
        CommandResponse::Empty => StatusCode::OK.into_response(),
        CommandResponse::Status(status, message) => text_error(status, message),
    };
    if let Ok(v) = HeaderValue::from_str(version.as_str()) {
        response.headers_mut().insert("MS-ASProtocolVersion", v);
    }
    response
        .headers_mut()
        .insert("MS-Server-ActiveSync", HeaderValue::from_static("16.1"));
    response
}
