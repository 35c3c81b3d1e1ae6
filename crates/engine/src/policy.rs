//! Named security policies (MS-ASPROV EASProvisionDoc) and their assignment to users.
//!
//! All policies live in the store's kv table as one JSON document ([`POLICIES_KEY`]), beside
//! the access rules, so the CLI can change them beside a running server: the server reads the
//! document at each request (one indexed row) and a device whose acknowledged policy is not
//! the current revision of its user's policy gets Status 143 (MS-ASCMD 2.2.2: the policy
//! changed, re-provision), or HTTP 449 below 14.0.
//!
//! A policy keeps only the settings that differ from the spec's defaults
//! ([`EasProvisionDoc::spec_defaults`]); the `default` policy always exists and, unless an
//! admin changes it, restricts nothing.

use crate::EngineError;
use easd_protocol::commands::provision::{EasProvisionDoc, PolicySettingError};
use easd_store::Store;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The kv key of the policies document.
pub const POLICIES_KEY: &str = "policies";
/// The policy of every user without an assignment.
pub const DEFAULT_POLICY: &str = "default";
/// Exchange's name of the setting for devices that can't apply the whole policy.
pub const ALLOW_NON_PROVISIONABLE: &str = "AllowNonProvisionableDevices";
/// Exchange's name of the refresh interval (seconds here; "unlimited" or empty: none).
pub const REFRESH_INTERVAL: &str = "DevicePolicyRefreshInterval";

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// EASProvisionDoc settings that differ from the spec's defaults: element name → text.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// Devices that acknowledge the policy with Status 2-4 (they can't apply all of it,
    /// MS-ASPROV 2.2.2.54.1) are admitted; otherwise they get Provision Status 139
    /// (MS-ASPROV 3.1.5.2).
    #[serde(default = "yes")]
    pub allow_non_provisionable_devices: bool,
    /// Seconds after a completed handshake at which the device must provision again;
    /// `None`: never.
    #[serde(default)]
    pub refresh_interval: Option<u64>,
    /// Advanced by every change; devices provisioned with an older one re-provision.
    #[serde(default)]
    pub revision: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            settings: BTreeMap::new(),
            allow_non_provisionable_devices: true,
            refresh_interval: None,
            revision: 0,
        }
    }
}

impl Policy {
    /// The EASProvisionDoc a device downloads.
    pub fn doc(&self) -> EasProvisionDoc {
        let mut doc = EasProvisionDoc::spec_defaults();
        for (name, value) in &self.settings {
            if let Err(e) = doc.set(name, value) {
                tracing::error!(error = %e, "a stored policy setting does not apply; left out");
            }
        }
        doc
    }

    /// What the partnership records of the policy it acknowledged.
    pub fn tag(&self, name: &str) -> String {
        format!("{name}#{}", self.revision)
    }

    /// Applies `KEY=VALUE` settings; returns whether anything changed.
    pub fn apply(&mut self, changes: &[(String, String)]) -> Result<bool, PolicyError> {
        let before = self.clone();
        let defaults: BTreeMap<&str, Option<String>> = EasProvisionDoc::spec_defaults()
            .settings()
            .into_iter()
            .collect();
        let mut doc = self.doc();
        for (key, value) in changes {
            let value = value.trim();
            if key.eq_ignore_ascii_case(ALLOW_NON_PROVISIONABLE) {
                self.allow_non_provisionable_devices = parse_bool(value)
                    .ok_or_else(|| PolicyError::Invalid(format!("{key}={value}: true or false")))?;
                continue;
            }
            if key.eq_ignore_ascii_case(REFRESH_INTERVAL) {
                self.refresh_interval = match value.to_ascii_lowercase().as_str() {
                    "" | "unlimited" | "none" | "0" => None,
                    v => Some(v.parse::<u64>().map_err(|_| {
                        PolicyError::Invalid(format!("{key}={value}: seconds or unlimited"))
                    })?),
                };
                continue;
            }
            doc.set(key, value).map_err(PolicyError::Setting)?;
        }
        // Keep only what differs from the spec's defaults, by the spec's names.
        self.settings = doc
            .settings()
            .into_iter()
            .filter(|(name, value)| defaults.get(name) != Some(value))
            .map(|(name, value)| (name.to_owned(), value.unwrap_or_default()))
            .collect();
        let changed = *self != before;
        if changed {
            self.revision = before.revision + 1;
        }
        Ok(changed)
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error(transparent)]
    Setting(#[from] PolicySettingError),
    #[error("{0}")]
    Invalid(String),
    #[error("no policy {0:?}")]
    NoPolicy(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<easd_store::StoreError> for PolicyError {
    fn from(e: easd_store::StoreError) -> Self {
        PolicyError::Engine(e.into())
    }
}

/// The policies document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policies {
    #[serde(default)]
    pub policies: BTreeMap<String, Policy>,
    /// Account email (lowercase) → policy name.
    #[serde(default)]
    pub assignments: BTreeMap<String, String>,
}

/// The policy that applies to one user.
#[derive(Debug, Clone)]
pub struct AssignedPolicy {
    pub name: String,
    pub policy: Policy,
}

impl AssignedPolicy {
    pub fn tag(&self) -> String {
        self.policy.tag(&self.name)
    }
}

impl Policies {
    /// The document, with the `default` policy in it.
    pub fn load(store: &dyn Store) -> Result<Policies, EngineError> {
        let mut p: Policies = match store.kv_get(POLICIES_KEY)? {
            Some(json) => serde_json::from_str(&json).unwrap_or_else(|e| {
                tracing::error!(error = %e, "policies do not parse; using the default policy");
                Policies::default()
            }),
            None => Policies::default(),
        };
        p.policies.entry(DEFAULT_POLICY.to_owned()).or_default();
        Ok(p)
    }

    pub fn save(&self, store: &dyn Store) -> Result<(), EngineError> {
        let json = serde_json::to_string(self).map_err(|e| EngineError::Task(e.to_string()))?;
        Ok(store.kv_set(POLICIES_KEY, &json)?)
    }

    /// The user's policy: the assigned one, else `default`.
    pub fn for_user(&self, email: &str) -> AssignedPolicy {
        let name = self
            .assignments
            .get(&email.to_lowercase())
            .filter(|n| self.policies.contains_key(*n))
            .cloned()
            .unwrap_or_else(|| DEFAULT_POLICY.to_owned());
        let policy = self.policies.get(&name).cloned().unwrap_or_default();
        AssignedPolicy { name, policy }
    }

    /// The users assigned to a policy.
    pub fn users_of(&self, name: &str) -> Vec<String> {
        self.assignments
            .iter()
            .filter(|(_, p)| p.as_str() == name)
            .map(|(u, _)| u.clone())
            .collect()
    }
}

/// A policy as `easd policy show` and the admin API present it.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyView {
    pub name: String,
    pub revision: u64,
    #[serde(rename = "AllowNonProvisionableDevices")]
    pub allow_non_provisionable_devices: bool,
    /// Seconds; null: unlimited.
    #[serde(rename = "DevicePolicyRefreshInterval")]
    pub refresh_interval: Option<u64>,
    /// Every EASProvisionDoc setting by its element name; null: left out (no limit).
    pub settings: BTreeMap<String, Option<String>>,
    pub users: Vec<String>,
}

impl PolicyView {
    fn of(policies: &Policies, name: &str, policy: &Policy) -> PolicyView {
        PolicyView {
            name: name.to_owned(),
            revision: policy.revision,
            allow_non_provisionable_devices: policy.allow_non_provisionable_devices,
            refresh_interval: policy.refresh_interval,
            settings: policy
                .doc()
                .settings()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            users: policies.users_of(name),
        }
    }
}

/// `policy list`.
pub fn list(store: &dyn Store) -> Result<Vec<PolicyView>, PolicyError> {
    let p = Policies::load(store)?;
    Ok(p.policies
        .iter()
        .map(|(name, policy)| PolicyView::of(&p, name, policy))
        .collect())
}

/// `policy show NAME`.
pub fn show(store: &dyn Store, name: &str) -> Result<PolicyView, PolicyError> {
    let p = Policies::load(store)?;
    let policy = p
        .policies
        .get(name)
        .ok_or_else(|| PolicyError::NoPolicy(name.to_owned()))?;
    Ok(PolicyView::of(&p, name, policy))
}

/// `policy set NAME KEY=VALUE...`: creates the policy if it is new. Devices of its users
/// re-provision at their next request when anything changed.
pub fn set(
    store: &dyn Store,
    name: &str,
    changes: &[(String, String)],
) -> Result<PolicyView, PolicyError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 64 {
        return Err(PolicyError::Invalid(
            "a policy name is 1 to 64 characters".into(),
        ));
    }
    let mut p = Policies::load(store)?;
    let policy = p.policies.entry(name.to_owned()).or_default();
    if policy.apply(changes)? {
        tracing::info!(
            policy = name,
            revision = policy.revision,
            "policy changed: its devices re-provision"
        );
    }
    p.save(store)?;
    show(store, name)
}

/// `policy assign USER NAME`.
pub fn assign(store: &dyn Store, user: &str, name: &str) -> Result<PolicyView, PolicyError> {
    let account = store
        .account_by_email(user)?
        .ok_or_else(|| PolicyError::Invalid(format!("no account {user}")))?;
    let mut p = Policies::load(store)?;
    if !p.policies.contains_key(name) {
        return Err(PolicyError::NoPolicy(name.to_owned()));
    }
    if name == DEFAULT_POLICY {
        p.assignments.remove(&account.email.to_lowercase());
    } else {
        p.assignments
            .insert(account.email.to_lowercase(), name.to_owned());
    }
    tracing::info!(user = %account.email, policy = name, "policy assigned");
    p.save(store)?;
    show(store, name)
}

/// Splits `KEY=VALUE` arguments.
pub fn parse_assignments(args: &[String]) -> Result<Vec<(String, String)>, PolicyError> {
    args.iter()
        .map(|a| {
            a.split_once('=')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                .ok_or_else(|| PolicyError::Invalid(format!("{a:?} is not KEY=VALUE")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_policy_restricts_nothing() {
        let p = Policies::default().for_user("a@x");
        assert_eq!(p.name, DEFAULT_POLICY);
        let doc = p.policy.doc();
        assert_eq!(doc, EasProvisionDoc::spec_defaults());
        assert_eq!(doc.device_password_enabled, Some(false));
        assert_eq!(doc.attachments_enabled, Some(true));
        assert!(p.policy.allow_non_provisionable_devices);
        assert_eq!(p.policy.refresh_interval, None);
    }

    #[test]
    fn changes_keep_only_what_differs_and_advance_the_revision() {
        let mut p = Policy::default();
        let kv = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert!(p
            .apply(&[
                kv("device_password_enabled", "true"),
                kv("MinDevicePasswordLength", "6")
            ])
            .unwrap());
        assert_eq!(p.revision, 1);
        assert_eq!(
            p.settings,
            BTreeMap::from([
                ("DevicePasswordEnabled".to_owned(), "1".to_owned()),
                ("MinDevicePasswordLength".to_owned(), "6".to_owned()),
            ])
        );
        // The same values again: no change, no new revision.
        assert!(!p.apply(&[kv("DevicePasswordEnabled", "1")]).unwrap());
        assert_eq!(p.revision, 1);
        // Back to the spec's default: the override goes.
        assert!(p.apply(&[kv("DevicePasswordEnabled", "0")]).unwrap());
        assert!(!p.settings.contains_key("DevicePasswordEnabled"));
        assert!(p
            .apply(&[
                kv(REFRESH_INTERVAL, "3600"),
                kv(ALLOW_NON_PROVISIONABLE, "false")
            ])
            .unwrap());
        assert_eq!(p.refresh_interval, Some(3600));
        assert!(!p.allow_non_provisionable_devices);
        assert!(p.apply(&[kv("MinDevicePasswordLength", "40")]).is_err());
        assert!(p.apply(&[kv(REFRESH_INTERVAL, "soon")]).is_err());
        assert_eq!(p.tag("strict"), "strict#3");
    }
}
