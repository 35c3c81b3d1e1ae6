//! Device access: Allow, Block, Quarantine (ARCHITECTURE.md invariant 8).
//!
//! The rules live in the store's kv table as one JSON document ([`RULES_KEY`]) so the CLI can
//! change them beside a running server; the server reads them at each request (one indexed
//! row, cheaper than the partnership lookup the request already makes).
//!
//! Order of evaluation, first match wins:
//! 1. a wipe that was acknowledged (MS-ASPROV 3.2.5.1.2.2): the device stays refused;
//! 2. an explicit state set by an admin on the partnership (`access_reason` "admin: ...");
//! 3. the user's allowed / blocked DeviceIds;
//! 4. the rules (DeviceType, DeviceModel, DeviceOS, User-Agent; exact or prefix), in order;
//! 5. the organization's default level.

use crate::{Engine, EngineError};
use easd_store::{AccessState, Account, Partnership, Store, WipeState};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The kv key of the rules document.
pub const RULES_KEY: &str = "access.rules";
/// Prefix of the kv keys that remember a quarantine notice was delivered (per partnership).
pub const NOTICE_KEY_PREFIX: &str = "access.quarantine_notice.";
/// Prefix of the reason of a state set by an admin; such a state wins over rules.
pub const ADMIN_PREFIX: &str = "admin:";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    #[default]
    Allow,
    Block,
    Quarantine,
}

impl Level {
    pub fn state(self) -> AccessState {
        match self {
            Level::Allow => AccessState::Allowed,
            Level::Block => AccessState::Blocked,
            Level::Quarantine => AccessState::Quarantined,
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Some(match s {
            "allow" | "allowed" => Level::Allow,
            "block" | "blocked" => Level::Block,
            "quarantine" | "quarantined" => Level::Quarantine,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Block => "block",
            Level::Quarantine => "quarantine",
        }
    }
}

/// What a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    DeviceType,
    DeviceModel,
    DeviceOs,
    UserAgent,
}

impl Field {
    /// `device-type`, `device_type` or `DeviceType`, and so on.
    pub fn parse(s: &str) -> Option<Field> {
        let key: String = s
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .flat_map(char::to_lowercase)
            .collect();
        Some(match key.as_str() {
            "devicetype" => Field::DeviceType,
            "devicemodel" => Field::DeviceModel,
            "deviceos" => Field::DeviceOs,
            "useragent" => Field::UserAgent,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Field::DeviceType => "device-type",
            Field::DeviceModel => "device-model",
            Field::DeviceOs => "device-os",
            Field::UserAgent => "user-agent",
        }
    }

    fn value(self, p: &Partnership) -> &str {
        match self {
            Field::DeviceType => &p.device_type,
            Field::DeviceModel => &p.model,
            Field::DeviceOs => &p.os,
            Field::UserAgent => &p.user_agent,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub id: u32,
    pub field: Field,
    pub value: String,
    /// Match a prefix of the field rather than all of it.
    #[serde(default)]
    pub prefix: bool,
    pub access: Level,
}

impl Rule {
    /// Case-insensitive, as Exchange's device access rules are.
    pub fn matches(&self, p: &Partnership) -> bool {
        let have = self.field.value(p).to_lowercase();
        let want = self.value.to_lowercase();
        if self.prefix {
            have.starts_with(&want)
        } else {
            have == want
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "rule {}: {} {} {:?} -> {}",
            self.id,
            self.field.as_str(),
            if self.prefix { "starts with" } else { "is" },
            self.value,
            self.access.as_str()
        )
    }
}

/// DeviceIds one user is allowed or refused, overriding the rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDevices {
    #[serde(default)]
    pub allowed: Vec<String>,
    #[serde(default)]
    pub blocked: Vec<String>,
}

/// The rules document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRules {
    #[serde(default)]
    pub default: Level,
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Keyed by the account's email (lowercase).
    #[serde(default)]
    pub users: BTreeMap<String, UserDevices>,
}

impl AccessRules {
    pub fn load(store: &dyn Store) -> Result<AccessRules, EngineError> {
        Ok(match store.kv_get(RULES_KEY)? {
            Some(json) => serde_json::from_str(&json).unwrap_or_else(|e| {
                tracing::error!(error = %e, "access rules do not parse; using the defaults");
                AccessRules::default()
            }),
            None => AccessRules::default(),
        })
    }

    pub fn save(&self, store: &dyn Store) -> Result<(), EngineError> {
        let json = serde_json::to_string(self).map_err(|e| EngineError::Task(e.to_string()))?;
        Ok(store.kv_set(RULES_KEY, &json)?)
    }

    pub fn next_id(&self) -> u32 {
        self.rules.iter().map(|r| r.id).max().unwrap_or(0) + 1
    }

    /// The verdict for a partnership of `email`, with the reason (invariant 8).
    pub fn evaluate(&self, email: &str, p: &Partnership) -> (AccessState, String) {
        if p.wipe_state == WipeState::Wiped {
            return (AccessState::Blocked, "remote wipe acknowledged".into());
        }
        if p.access_reason.starts_with(ADMIN_PREFIX) {
            return (p.access_state, p.access_reason.clone());
        }
        if let Some(u) = self.users.get(&email.to_lowercase()) {
            if u.blocked
                .iter()
                .any(|d| d.eq_ignore_ascii_case(&p.device_id))
            {
                return (AccessState::Blocked, format!("blocked for user {email}"));
            }
            if u.allowed
                .iter()
                .any(|d| d.eq_ignore_ascii_case(&p.device_id))
            {
                return (AccessState::Allowed, format!("allowed for user {email}"));
            }
        }
        if let Some(r) = self.rules.iter().find(|r| r.matches(p)) {
            return (r.access.state(), r.describe());
        }
        (
            self.default.state(),
            format!("default: {}", self.default.as_str()),
        )
    }
}

/// The notice a quarantined device finds in its Inbox.
fn notice_message(email: &str, p: &Partnership, hostname: &str) -> Vec<u8> {
    let date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default();
    format!(
        "From: easd <postmaster@{hostname}>\r\nTo: <{email}>\r\nDate: {date}\r\n\
         Subject: Your device is waiting for approval\r\n\
         Message-ID: <quarantine-{id}@{hostname}>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         Your device {dev} ({ty}) is waiting for an administrator's approval.\r\n\
         Until then it can only receive this message. Once approved, your mail,\r\n\
         calendar and contacts will synchronize.\r\n",
        id = p.id.0,
        dev = p.device_id,
        ty = p.device_type,
    )
    .into_bytes()
}

fn admin_message(
    admin: &str,
    email: &str,
    p: &Partnership,
    reason: &str,
    hostname: &str,
) -> Vec<u8> {
    let date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default();
    format!(
        "From: easd <postmaster@{hostname}>\r\nTo: <{admin}>\r\nDate: {date}\r\n\
         Subject: Device quarantined: {dev} of {email}\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         Device {dev} (type {ty}, model {model}, user agent {ua}) of {email} is quarantined\r\n\
         ({reason}). Approve it with: easd device allow {dev} --user {email}\r\n",
        dev = p.device_id,
        ty = p.device_type,
        model = p.model,
        ua = p.user_agent,
    )
    .into_bytes()
}

/// The ServerId of the quarantine notice delivered for a partnership: the one item its
/// Inbox shows while it is quarantined.
pub fn quarantine_notice(
    store: &dyn Store,
    partnership: easd_store::PartnershipId,
) -> Result<Option<String>, EngineError> {
    Ok(store.kv_get(&format!("{NOTICE_KEY_PREFIX}{}", partnership.0))?)
}

/// How the admin hears of a quarantined device.
enum AdminNotice {
    /// Delivered to a local account's Inbox (account, folder: for the push hub).
    Local(i64, i64),
    /// To be relayed to a remote address through the smarthost.
    Remote(String, Vec<u8>),
}

impl Engine {
    /// Evaluates the device's access at a request, records a changed verdict on the
    /// partnership with its reason, and delivers the quarantine notices once: to the
    /// user's Inbox (the only item a quarantined device sees there) and to `admin_email`.
    pub async fn device_access(
        &self,
        account: &Account,
        partnership: Partnership,
    ) -> Result<Partnership, EngineError> {
        let email = account.email.clone();
        let hostname = self.settings.hostname.clone();
        let admin = self.settings.admin_email.clone();
        let (p, delivered, admin_notice) = self
            .blocking(move |store| {
                let rules = AccessRules::load(store)?;
                let (state, reason) = rules.evaluate(&email, &partnership);
                let mut p = partnership;
                let changed = p.access_state != state || p.access_reason != reason;
                if !changed && state != AccessState::Quarantined {
                    return Ok((p, None, None));
                }
                if changed {
                    tracing::info!(
                        account = %email,
                        device = %p.device_id,
                        from = p.access_state.as_str(),
                        to = state.as_str(),
                        %reason,
                        "device access decision"
                    );
                    p.access_state = state;
                    p.access_reason = reason.clone();
                    store.update_partnership(&p)?;
                }
                if state != AccessState::Quarantined || quarantine_notice(store, p.id)?.is_some() {
                    return Ok((p, None, None));
                }
                let item = crate::delivery::deliver_blocking(
                    store,
                    p.account,
                    notice_message(&email, &p, &hostname),
                )?;
                store.kv_set(&format!("{NOTICE_KEY_PREFIX}{}", p.id.0), &item.server_id)?;
                let delivered = Some((p.account.0, item.folder.0));
                tracing::warn!(account = %email, device = %p.device_id, %reason,
                    "device quarantined: waiting for an admin's approval");
                let admin_notice = match admin.as_deref() {
                    Some(admin) => {
                        let message = admin_message(admin, &email, &p, &reason, &hostname);
                        match store.account_by_address(admin)? {
                            Some(a) => {
                                let item = crate::delivery::deliver_blocking(store, a.id, message)?;
                                Some(AdminNotice::Local(a.id.0, item.folder.0))
                            }
                            None => Some(AdminNotice::Remote(admin.to_owned(), message)),
                        }
                    }
                    None => None,
                };
                Ok((p, delivered, admin_notice))
            })
            .await?;
        if let Some((account, folder)) = delivered {
            self.hub.changed(account, &[folder]);
        }
        match admin_notice {
            Some(AdminNotice::Local(account, folder)) => self.hub.changed(account, &[folder]),
            Some(AdminNotice::Remote(admin, message)) => self.relay_admin_notice(admin, message),
            None => {}
        }
        Ok(p)
    }

    /// Sends the admin's notice through the smarthost in the background (the device's
    /// request does not wait for it).
    fn relay_admin_notice(&self, admin: String, message: Vec<u8>) {
        let Some(relay) = self.settings.relay.clone() else {
            tracing::warn!(%admin, "admin_email is not a local account and no smarthost is set: not told");
            return;
        };
        let from = format!("postmaster@{}", self.settings.hostname);
        tokio::spawn(async move {
            if let Err(e) =
                crate::submission::relay_send(&relay, &from, std::slice::from_ref(&admin), &message)
                    .await
            {
                tracing::warn!(%admin, reason = %e.reason, "quarantine notice to the admin not relayed");
            }
        });
    }
}

impl Engine {
    /// Records the device's acknowledgement of a remote wipe (MS-ASPROV 3.2.5.1.2.2):
    /// the time and the state `wiped`; the device is refused from then on.
    pub async fn acknowledge_wipe(
        &self,
        partnership: &Partnership,
        status: u16,
    ) -> Result<(), EngineError> {
        let id = partnership.id;
        self.blocking(move |store| {
            let Some(mut p) = store.partnership_by_id(id)? else {
                return Ok(());
            };
            if !matches!(
                p.wipe_state,
                WipeState::PendingFull | WipeState::PendingAccount
            ) {
                return Ok(());
            }
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            tracing::warn!(device = %p.device_id, account = p.account.0,
                kind = p.wipe_state.as_str(), status, "remote wipe acknowledged");
            p.wipe_state = WipeState::Wiped;
            p.wipe_acked_at = Some(now);
            p.access_state = AccessState::Blocked;
            p.access_reason = "remote wipe acknowledged".into();
            store.update_partnership(&p)?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partnership() -> Partnership {
        let json = serde_json::json!({
            "id": 1, "account": 1, "device_id": "DEV1", "device_type": "iPhone",
            "user_agent": "Apple-iPhone/1", "protocol_version": "16.1", "model": "iPhone15,2",
            "imei": "", "friendly_name": "", "os": "iOS 17", "os_language": "", "phone_number": "",
            "mobile_operator": "", "created_at": 0, "first_sync": null, "last_sync": null,
            "last_sync_attempt": null, "last_ping": null, "last_heartbeat": null, "policy_key": 0,
            "policy_status": 0, "provisioned_policy": "", "access_state": "allowed",
            "access_reason": "", "wipe_state": "none", "wipe_requested_at": null,
            "wipe_acked_at": null, "items_sent": 0, "items_received": 0, "last_error": "",
            "ping_folders": null, "ping_heartbeat": 0
        });
        serde_json::from_value(json).expect("partnership json")
    }

    #[test]
    fn order_of_evaluation() {
        let mut rules = AccessRules {
            default: Level::Quarantine,
            ..Default::default()
        };
        let p = partnership();
        assert_eq!(rules.evaluate("a@x", &p).0, AccessState::Quarantined);
        rules.rules.push(Rule {
            id: 1,
            field: Field::UserAgent,
            value: "apple-".into(),
            prefix: true,
            access: Level::Allow,
        });
        assert_eq!(rules.evaluate("a@x", &p).0, AccessState::Allowed);
        rules.users.insert(
            "a@x".into(),
            UserDevices {
                blocked: vec!["dev1".into()],
                ..Default::default()
            },
        );
        assert_eq!(rules.evaluate("A@x", &p).0, AccessState::Blocked);
        assert_eq!(rules.evaluate("b@x", &p).0, AccessState::Allowed);
        let mut admin = p.clone();
        admin.access_state = AccessState::Allowed;
        admin.access_reason = "admin: approved".into();
        assert_eq!(rules.evaluate("a@x", &admin).0, AccessState::Allowed);
        admin.wipe_state = WipeState::Wiped;
        assert_eq!(rules.evaluate("a@x", &admin).0, AccessState::Blocked);
    }

    #[test]
    fn exact_rules_do_not_match_prefixes() {
        let r = Rule {
            id: 1,
            field: Field::DeviceType,
            value: "iPh".into(),
            prefix: false,
            access: Level::Block,
        };
        assert!(!r.matches(&partnership()));
        let r = Rule {
            value: "IPHONE".into(),
            ..r
        };
        assert!(r.matches(&partnership()));
    }
}
