//! Routes other than the EAS endpoint: Autodiscover and the health probe.

use crate::app::{text_error, App};
use crate::auth::{login_name, Credentials};
use crate::autodiscover::{self, AutodiscoverRequest};
use crate::listener::ConnInfo;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use std::collections::HashMap;
use std::sync::Arc;

fn xml(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

/// POST /autodiscover/autodiscover.xml. Credentials are required, so an anonymous caller
/// learns nothing about which addresses exist.
pub async fn autodiscover_xml(
    State(app): State<Arc<App>>,
    conn: Option<Extension<ConnInfo>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = match AutodiscoverRequest::parse(&body) {
        Ok(r) => r,
        Err(e) => {
            return xml(
                StatusCode::BAD_REQUEST,
                autodiscover::error_xml(600, &e.to_string()),
            )
        }
    };
    let Some(credentials) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Credentials::parse(v).ok())
    else {
        let mut r = text_error(StatusCode::UNAUTHORIZED, "credentials required");
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Basic realm=\"easd\""),
        );
        return r;
    };
    let login = login_name(&credentials);
    let password = credentials.password.clone();
    let lookup = login.clone();
    let account = app
        .engine
        .blocking(move |store| {
            let Some(account) = easd_engine::delivery::account_for_login(store, &lookup)? else {
                return Ok(None);
            };
            Ok(
                easd_store::password::verify_password(&password, &account.password_hash)
                    .then_some(account),
            )
        })
        .await;
    let account = match account {
        Ok(Some(a)) => a,
        Ok(None) => {
            tracing::info!(user = %login, "autodiscover: login failed");
            let mut r = text_error(StatusCode::UNAUTHORIZED, "wrong user name or password");
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Basic realm=\"easd\""),
            );
            return r;
        }
        Err(e) => {
            tracing::error!(error = %e, "autodiscover lookup failed");
            return text_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable");
        }
    };
    let url = app.eas_url(&headers, conn.as_ref().map(|c| &c.0));
    let name = if account.display_name.is_empty() {
        account.email.clone()
    } else {
        account.display_name
    };
    xml(
        StatusCode::OK,
        autodiscover::response_xml(&request, &name, &url),
    )
}

/// GET /autodiscover/autodiscover.json?Email=...&Protocol=ActiveSync
pub async fn autodiscover_json(
    State(app): State<Arc<App>>,
    conn: Option<Extension<ConnInfo>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let protocol = params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("protocol"))
        .map(|(_, v)| v.as_str());
    json_answer(&app, conn, &headers, protocol)
}

/// GET /autodiscover/autodiscover.json/v1.0/{email}?Protocol=ActiveSync
pub async fn autodiscover_json_v1(
    State(app): State<Arc<App>>,
    conn: Option<Extension<ConnInfo>>,
    headers: HeaderMap,
    Path(_email): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let protocol = params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("protocol"))
        .map(|(_, v)| v.as_str());
    json_answer(&app, conn, &headers, protocol)
}

fn json_answer(
    app: &App,
    conn: Option<Extension<ConnInfo>>,
    headers: &HeaderMap,
    protocol: Option<&str>,
) -> Response {
    match protocol {
        Some(p) if p.eq_ignore_ascii_case("activesync") => {
            let url = app.eas_url(headers, conn.as_ref().map(|c| &c.0));
            Json(autodiscover::json_response(&url)).into_response()
        }
        other => (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({
                "ErrorCode": "InvalidProtocol",
                "ErrorMessage": format!("The given protocol value '{}' is invalid. Supported values are 'ActiveSync'", other.unwrap_or("")),
            })),
        )
            .into_response(),
    }
}

pub async fn healthz() -> &'static str {
    "ok\n"
}
