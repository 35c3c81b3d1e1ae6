//! Device management for admins: the one implementation behind `easd device|rule|policy`
//! and the admin HTTP API. Each function works on the store directly (the CLI runs beside a
//! running server); a decision about a device (access, wipe, removal) is a change event the
//! server's change poller turns into the end of the device's parked Ping, so its next request
//! gets the answer at once. The admin API, in the server's own process, also ends it
//! directly ([`Engine::devices_changed`]).

use crate::access::{AccessRules, Field, Level, Rule, ADMIN_PREFIX, NOTICE_KEY_PREFIX};
use crate::policy::PolicyError;
use crate::{Engine, EngineError};
use easd_store::{Partnership, Store, WipeState};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    /// The DeviceId is used by several accounts: the caller must name the user.
    #[error("device {0} is used by several accounts: name the user")]
    Ambiguous(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<easd_store::StoreError> for AdminError {
    fn from(e: easd_store::StoreError) -> Self {
        AdminError::Engine(e.into())
    }
}

impl From<PolicyError> for AdminError {
    fn from(e: PolicyError) -> Self {
        match e {
            PolicyError::NoPolicy(_) => AdminError::NotFound(e.to_string()),
            PolicyError::Engine(e) => AdminError::Engine(e),
            other => AdminError::Invalid(other.to_string()),
        }
    }
}

/// A partnership as `device list --json`, `device show` and the admin API present it: every
/// stored field, the user, and the statistics in the manner of Get-MobileDeviceStatistics.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceView {
    #[serde(flatten)]
    pub partnership: Partnership,
    pub user: String,
    /// Collections with a sync state (not FolderSync's hierarchy, nor the cached Sync request).
    pub folders_synced: usize,
    /// RFC 3339 forms of the times (unix seconds in the fields above).
    pub last_sync_attempt_time: Option<String>,
    pub last_success_sync_time: Option<String>,
    pub first_sync_time: Option<String>,
    pub last_ping_time: Option<String>,
    pub last_policy_update_time: Option<String>,
    pub last_error_time: Option<String>,
}

pub fn rfc3339(t: Option<i64>) -> Option<String> {
    t.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
}

fn view(store: &dyn Store, p: Partnership) -> Result<DeviceView, AdminError> {
    let user = store
        .account(p.account)?
        .map(|a| a.email)
        .unwrap_or_else(|| format!("#{}", p.account.0));
    let folders_synced = store
        .sync_state_keys(p.id)?
        .iter()
        .filter(|(c, _)| c != crate::folders::HIERARCHY && c != crate::sync::CACHED_REQUEST)
        .count();
    Ok(DeviceView {
        user,
        folders_synced,
        last_sync_attempt_time: rfc3339(p.last_sync_attempt),
        last_success_sync_time: rfc3339(p.last_sync),
        first_sync_time: rfc3339(p.first_sync),
        last_ping_time: rfc3339(p.last_ping),
        last_policy_update_time: rfc3339(p.provisioned_at),
        last_error_time: rfc3339(p.last_error_at),
        partnership: p,
    })
}

fn account_of(store: &dyn Store, user: &str) -> Result<easd_store::Account, AdminError> {
    store
        .account_by_email(user)?
        .ok_or_else(|| AdminError::NotFound(format!("no account {user}")))
}

/// The partnerships of a DeviceId (of one user if given).
pub fn find(
    store: &dyn Store,
    device_id: &str,
    user: Option<&str>,
) -> Result<Vec<Partnership>, AdminError> {
    let mut found = store.partnerships_by_device_id(device_id)?;
    if let Some(user) = user {
        let account = account_of(store, user)?;
        found.retain(|p| p.account == account.id);
    }
    Ok(found)
}

/// The one partnership a DeviceId (and user) names.
pub fn one(
    store: &dyn Store,
    device_id: &str,
    user: Option<&str>,
) -> Result<Partnership, AdminError> {
    let mut found = find(store, device_id, user)?;
    match found.len() {
        0 => Err(AdminError::NotFound(format!(
            "no partnership for device {device_id}"
        ))),
        1 => Ok(found.remove(0)),
        _ => Err(AdminError::Ambiguous(device_id.to_owned())),
    }
}

/// `device list [--user U]`.
pub fn list(store: &dyn Store, user: Option<&str>) -> Result<Vec<DeviceView>, AdminError> {
    let account = user.map(|u| account_of(store, u)).transpose()?;
    store
        .list_partnerships(account.map(|a| a.id))?
        .into_iter()
        .map(|p| view(store, p))
        .collect()
}

/// `device show ID [--user U]`.
pub fn show(
    store: &dyn Store,
    device_id: &str,
    user: Option<&str>,
) -> Result<DeviceView, AdminError> {
    let p = one(store, device_id, user)?;
    view(store, p)
}

/// `device allow|block|quarantine ID`: an admin's explicit state on the partnership(s),
/// which wins over the rules; with a user, allow and block also go to the user's lists so
/// they apply before the device's first contact.
pub fn set_access(
    store: &dyn Store,
    device_id: &str,
    user: Option<&str>,
    level: Level,
    reason: Option<&str>,
) -> Result<Vec<DeviceView>, AdminError> {
    let reason = format!(
        "{ADMIN_PREFIX} {}",
        reason
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .unwrap_or(level.as_str())
    );
    let found = find(store, device_id, user)?;
    if found.is_empty() && user.is_none() {
        return Err(AdminError::NotFound(format!(
            "no partnership for device {device_id} (name the user to decide before its first contact)"
        )));
    }
    let mut out = Vec::new();
    for mut p in found {
        p.access_state = level.state();
        p.access_reason = reason.clone();
        store.update_partnership(&p)?;
        tracing::info!(device = %p.device_id, account = p.account.0,
            state = p.access_state.as_str(), %reason, "device access set by an admin");
        out.push(view(store, p)?);
    }
    if let Some(user) = user {
        let email = account_of(store, user)?.email.to_lowercase();
        let mut rules = AccessRules::load(store)?;
        let lists = rules.users.entry(email).or_default();
        lists.allowed.retain(|d| !d.eq_ignore_ascii_case(device_id));
        lists.blocked.retain(|d| !d.eq_ignore_ascii_case(device_id));
        match level {
            Level::Allow => lists.allowed.push(device_id.to_owned()),
            Level::Block => lists.blocked.push(device_id.to_owned()),
            Level::Quarantine => {}
        }
        rules.save(store)?;
    }
    Ok(out)
}

/// `device remove ID`: the partnership and its sync states go; a re-added account starts
/// clean (FolderSync with key 0, a new Provision).
pub fn remove(
    store: &dyn Store,
    device_id: &str,
    user: Option<&str>,
) -> Result<DeviceView, AdminError> {
    let p = one(store, device_id, user)?;
    let shown = view(store, p.clone())?;
    store.remove_partnership(p.id)?;
    store.kv_delete(&format!("{NOTICE_KEY_PREFIX}{}", p.id.0))?;
    tracing::info!(device = %p.device_id, account = p.account.0, "partnership removed by an admin");
    Ok(shown)
}

/// `device wipe ID [--account-only]`: MS-ASPROV 3.2.5.1.2.2, at the device's next request.
pub fn wipe(
    store: &dyn Store,
    device_id: &str,
    user: Option<&str>,
    account_only: bool,
) -> Result<DeviceView, AdminError> {
    let mut p = one(store, device_id, user)?;
    p.wipe_state = if account_only {
        WipeState::PendingAccount
    } else {
        WipeState::PendingFull
    };
    p.wipe_requested_at = Some(time::OffsetDateTime::now_utc().unix_timestamp());
    p.wipe_acked_at = None;
    store.update_partnership(&p)?;
    tracing::warn!(device = %p.device_id, account = p.account.0,
        kind = p.wipe_state.as_str(), "remote wipe requested by an admin");
    view(store, p)
}

/// `device resync ID [--folder F]`: forgets the sync states (of one collection, or all and
/// the hierarchy), so the device's next Sync gets Status 3 / FolderSync Status 9 and starts
/// that collection over.
pub fn resync(
    store: &dyn Store,
    device_id: &str,
    user: Option<&str>,
    folder: Option<&str>,
) -> Result<DeviceView, AdminError> {
    let p = one(store, device_id, user)?;
    store.delete_sync_states(p.id, folder)?;
    tracing::info!(device = %p.device_id, account = p.account.0, folder = folder.unwrap_or("all"),
        "sync states reset by an admin");
    view(store, p)
}

/// `rule list`.
pub fn rules(store: &dyn Store) -> Result<AccessRules, AdminError> {
    Ok(AccessRules::load(store)?)
}

/// `rule add`.
pub fn add_rule(
    store: &dyn Store,
    field: Field,
    value: &str,
    prefix: bool,
    access: Level,
) -> Result<Rule, AdminError> {
    if value.trim().is_empty() {
        return Err(AdminError::Invalid("a rule needs a value to match".into()));
    }
    let mut rules = AccessRules::load(store)?;
    let rule = Rule {
        id: rules.next_id(),
        field,
        value: value.trim().to_owned(),
        prefix,
        access,
    };
    rules.rules.push(rule.clone());
    rules.save(store)?;
    tracing::info!(rule = %rule.describe(), "access rule added");
    Ok(rule)
}

/// `rule remove N`.
pub fn remove_rule(store: &dyn Store, id: u32) -> Result<(), AdminError> {
    let mut rules = AccessRules::load(store)?;
    let before = rules.rules.len();
    rules.rules.retain(|r| r.id != id);
    if rules.rules.len() == before {
        return Err(AdminError::NotFound(format!("no rule {id}")));
    }
    rules.save(store)?;
    tracing::info!(rule = id, "access rule removed");
    Ok(())
}

/// `rule default LEVEL`.
pub fn set_default(store: &dyn Store, level: Level) -> Result<(), AdminError> {
    let mut rules = AccessRules::load(store)?;
    rules.default = level;
    rules.save(store)?;
    tracing::info!(default = level.as_str(), "default access level set");
    Ok(())
}

impl Engine {
    /// Ends the parked Pings of these partnerships (an admin decided something about them):
    /// their next request gets the answer.
    pub fn devices_changed(&self, devices: &[&Partnership]) {
        for p in devices {
            self.hub.supersede(p.account.0, p.id.0);
        }
    }
}
