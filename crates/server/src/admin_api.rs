//! The device management API on the admin listener, JSON in and out: the same engine
//! functions as `easd device|rule|policy` ([`easd_engine::device_admin`],
//! [`easd_engine::policy`]), and a decision about a device ends its parked Ping at once.
//!
//! Every route needs `Authorization: Bearer <admin.token>` (the token file in the data dir),
//! from loopback too: these routes change what devices may do.
//!
//! ```text
//! GET    /api/devices[?user=U]                    GET /api/devices/{id}[?user=U]
//! POST   /api/devices/{id}/allow|block|quarantine {"user"?, "reason"?}
//! POST   /api/devices/{id}/wipe                   {"user"?, "account_only"?}
//! POST   /api/devices/{id}/resync                 {"user"?, "folder"?}
//! DELETE /api/devices/{id}[?user=U]
//! GET    /api/rules    POST /api/rules {"field", "value", "prefix"?, "access"}
//! DELETE /api/rules/{n}                           PUT /api/rules/default {"access"}
//! GET    /api/policies GET /api/policies/{name}   POST /api/policies/{name} {"settings": {K: V}}
//! POST   /api/policies/{name}/assign {"user"}
//! ```

use axum::body::Bytes;
use axum::extract::Request;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use easd_engine::access::{Field, Level};
use easd_engine::device_admin::{self, AdminError};
use easd_engine::{policy, Engine};
use easd_store::Store;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

struct Api {
    engine: Arc<Engine>,
    token: String,
}

/// The admin API's routes, to merge into the admin listener's router.
pub fn routes(engine: Arc<Engine>, token: String) -> Router {
    let api = Arc::new(Api { engine, token });
    Router::new()
        .route("/api/devices", get(list_devices))
        .route("/api/devices/{id}", get(show_device).delete(remove_device))
        .route("/api/devices/{id}/{action}", post(device_action))
        .route("/api/rules", get(list_rules).post(add_rule))
        .route("/api/rules/default", put(set_default))
        .route("/api/rules/{n}", delete(remove_rule))
        .route("/api/policies", get(list_policies))
        .route("/api/policies/{name}", get(show_policy).post(set_policy))
        .route("/api/policies/{name}/assign", post(assign_policy))
        .route_layer(middleware::from_fn_with_state(api.clone(), authorize))
        .with_state(api)
}

/// Every route asks for the admin token (`Authorization: Bearer`, admin.token).
async fn authorize(State(api): State<Arc<Api>>, request: Request, next: Next) -> Response {
    if crate::admin::bearer_ok(request.headers(), &api.token) {
        next.run(request).await
    } else {
        Failure(
            StatusCode::UNAUTHORIZED,
            "Authorization: Bearer <admin.token> required".into(),
        )
        .into_response()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Who {
    user: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceBody {
    user: Option<String>,
    reason: Option<String>,
    #[serde(default)]
    account_only: bool,
    folder: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleBody {
    field: String,
    value: String,
    #[serde(default)]
    prefix: bool,
    access: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessBody {
    access: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyBody {
    settings: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignBody {
    user: String,
}

/// An API failure: the status and a JSON `{"error": ...}`.
struct Failure(StatusCode, String);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

impl From<AdminError> for Failure {
    fn from(e: AdminError) -> Self {
        let status = match &e {
            AdminError::NotFound(_) => StatusCode::NOT_FOUND,
            AdminError::Invalid(_) => StatusCode::BAD_REQUEST,
            AdminError::Ambiguous(_) => StatusCode::CONFLICT,
            AdminError::Engine(err) => {
                tracing::error!(error = %err, "admin API: store failure");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        Failure(status, e.to_string())
    }
}

type Answer = Result<Response, Failure>;

fn json<T: Serialize>(value: T) -> Answer {
    Ok(Json(value).into_response())
}

fn bad(message: impl Into<String>) -> Failure {
    Failure(StatusCode::BAD_REQUEST, message.into())
}

/// An optional JSON body: empty means the defaults.
fn body<T: DeserializeOwned + Default>(bytes: &Bytes) -> Result<T, Failure> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    required(bytes)
}

fn required<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, Failure> {
    serde_json::from_slice(bytes).map_err(|e| bad(format!("request body: {e}")))
}

fn level(s: &str) -> Result<Level, Failure> {
    Level::parse(&s.to_lowercase()).ok_or_else(|| {
        bad(format!(
            "unknown access level {s:?} (allow, block, quarantine)"
        ))
    })
}

impl Api {
    /// Runs an admin function on the store (a blocking thread).
    async fn run<T, F>(&self, f: F) -> Result<T, Failure>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, AdminError> + Send + 'static,
    {
        let store = self.engine.store().clone();
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| Failure(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
            .map_err(Failure::from)
    }
}

async fn list_devices(State(api): State<Arc<Api>>, Query(who): Query<Who>) -> Answer {
    json(
        api.run(move |s| device_admin::list(s, who.user.as_deref()))
            .await?,
    )
}

async fn show_device(
    State(api): State<Arc<Api>>,
    Path(id): Path<String>,
    Query(who): Query<Who>,
) -> Answer {
    json(
        api.run(move |s| device_admin::show(s, &id, who.user.as_deref()))
            .await?,
    )
}

async fn remove_device(
    State(api): State<Arc<Api>>,
    Path(id): Path<String>,
    Query(who): Query<Who>,
) -> Answer {
    let removed = api
        .run(move |s| device_admin::remove(s, &id, who.user.as_deref()))
        .await?;
    api.engine.devices_changed(&[&removed.partnership]);
    json(removed)
}

async fn device_action(
    State(api): State<Arc<Api>>,
    Path((id, action)): Path<(String, String)>,
    bytes: Bytes,
) -> Answer {
    let b: DeviceBody = body(&bytes)?;
    let user = b.user.clone();
    let views = match action.as_str() {
        "allow" | "block" | "quarantine" => {
            let level = level(&action)?;
            api.run(move |s| {
                device_admin::set_access(s, &id, user.as_deref(), level, b.reason.as_deref())
            })
            .await?
        }
        "wipe" => vec![
            api.run(move |s| device_admin::wipe(s, &id, user.as_deref(), b.account_only))
                .await?,
        ],
        "resync" => vec![
            api.run(move |s| device_admin::resync(s, &id, user.as_deref(), b.folder.as_deref()))
                .await?,
        ],
        other => {
            return Err(Failure(
                StatusCode::NOT_FOUND,
                format!("no action {other:?}"),
            ))
        }
    };
    let changed: Vec<_> = views.iter().map(|v| &v.partnership).collect();
    api.engine.devices_changed(&changed);
    json(views)
}

async fn list_rules(State(api): State<Arc<Api>>) -> Answer {
    json(api.run(device_admin::rules).await?)
}

async fn add_rule(State(api): State<Arc<Api>>, bytes: Bytes) -> Answer {
    let b: RuleBody = required(&bytes)?;
    let field = Field::parse(&b.field).ok_or_else(|| {
        bad(format!(
            "unknown field {:?} (device-type, device-model, device-os, user-agent)",
            b.field
        ))
    })?;
    let access = level(&b.access)?;
    let rule = api
        .run(move |s| device_admin::add_rule(s, field, &b.value, b.prefix, access))
        .await?;
    Ok((StatusCode::CREATED, Json(rule)).into_response())
}

async fn remove_rule(State(api): State<Arc<Api>>, Path(n): Path<String>) -> Answer {
    let n: u32 = n
        .parse()
        .map_err(|_| bad(format!("{n:?} is not a rule number")))?;
    api.run(move |s| device_admin::remove_rule(s, n)).await?;
    json(serde_json::json!({ "removed": n }))
}

async fn set_default(State(api): State<Arc<Api>>, bytes: Bytes) -> Answer {
    let b: AccessBody = required(&bytes)?;
    let access = level(&b.access)?;
    api.run(move |s| device_admin::set_default(s, access))
        .await?;
    json(api.run(device_admin::rules).await?)
}

async fn list_policies(State(api): State<Arc<Api>>) -> Answer {
    json(api.run(|s| Ok(policy::list(s)?)).await?)
}

async fn show_policy(State(api): State<Arc<Api>>, Path(name): Path<String>) -> Answer {
    json(api.run(move |s| Ok(policy::show(s, &name)?)).await?)
}

async fn set_policy(State(api): State<Arc<Api>>, Path(name): Path<String>, bytes: Bytes) -> Answer {
    let b: PolicyBody = required(&bytes)?;
    let changes: Vec<(String, String)> = b
        .settings
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            (k, text)
        })
        .collect();
    json(
        api.run(move |s| Ok(policy::set(s, &name, &changes)?))
            .await?,
    )
}

async fn assign_policy(
    State(api): State<Arc<Api>>,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Answer {
    let b: AssignBody = required(&bytes)?;
    json(
        api.run(move |s| Ok(policy::assign(s, &b.user, &name)?))
            .await?,
    )
}
