//! Partnerships and the policy-key handshake (MS-ASPROV).
//!
//! A partnership is created at a device's first authenticated request. Provision hands out
//! a temporary policy key with the policy; the device's acknowledgement turns it into the
//! final key, which every later command must present (X-MS-PolicyKey).

use crate::policy::{AssignedPolicy, Policies};
use crate::{Engine, EngineError};
use easd_protocol::status::CommonStatus;
use easd_store::{AccountId, Partnership};

/// What a device tells us about itself on every request.
#[derive(Debug, Clone)]
pub struct DeviceContact {
    pub device_id: String,
    pub device_type: String,
    pub user_agent: String,
    pub protocol_version: String,
}

/// The verdict on a presented policy key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyVerdict {
    Current,
    /// The device must send Provision first; the status says why (MS-ASCMD 2.2.2).
    Reprovision(CommonStatus),
}

/// policy_status values kept on the partnership.
pub mod policy_status {
    /// Never provisioned.
    pub const NONE: i32 = 0;
    /// A temporary key was handed out; waiting for the acknowledgement.
    pub const PENDING: i32 = 1;
    /// The device acknowledged; `policy_key` is final.
    pub const PROVISIONED: i32 = 2;
    /// An admin changed the policy: the next request must re-provision (Status 143).
    pub const REFRESH: i32 = 3;
}

/// MS-ASPROV 3.2.5.1.2: compares the presented key with the partnership's final key, and
/// the policy the device acknowledged with its user's policy now (`current`).
pub fn check_policy_key(
    partnership: &Partnership,
    presented: Option<u32>,
    current: &AssignedPolicy,
    now: i64,
) -> PolicyVerdict {
    let presented = presented.unwrap_or(0);
    match partnership.policy_status {
        policy_status::PROVISIONED
            if presented != 0 && i64::from(presented) == partnership.policy_key =>
        {
            // MS-ASCMD 2.2.2 Status 143: the policy changed since the device acknowledged
            // it, or its refresh interval ran out. A compliant device provisions again and
            // goes on: the answer never locks it out.
            if partnership.provisioned_policy != current.tag() {
                return PolicyVerdict::Reprovision(CommonStatus::PolicyRefresh);
            }
            if let (Some(interval), Some(at)) =
                (current.policy.refresh_interval, partnership.provisioned_at)
            {
                if now.saturating_sub(at) >= i64::try_from(interval).unwrap_or(i64::MAX) {
                    return PolicyVerdict::Reprovision(CommonStatus::PolicyRefresh);
                }
            }
            PolicyVerdict::Current
        }
        policy_status::PROVISIONED if presented == 0 => {
            PolicyVerdict::Reprovision(CommonStatus::DeviceNotProvisioned)
        }
        policy_status::PROVISIONED => PolicyVerdict::Reprovision(CommonStatus::InvalidPolicyKey),
        policy_status::REFRESH => PolicyVerdict::Reprovision(CommonStatus::PolicyRefresh),
        _ => PolicyVerdict::Reprovision(CommonStatus::DeviceNotProvisioned),
    }
}

/// A random, nonzero policy key (0 means "none" on the wire).
pub fn new_policy_key() -> u32 {
    loop {
        let key: u32 = rand::random();
        if key != 0 {
            return key;
        }
    }
}

impl Engine {
    /// The device's partnership, created at its first contact, with its identity and
    /// last-contact time brought up to date.
    pub async fn device_contact(
        &self,
        account: AccountId,
        contact: DeviceContact,
    ) -> Result<Partnership, EngineError> {
        self.blocking(move |store| {
            let mut p = match store.partnership(account, &contact.device_id)? {
                Some(p) => p,
                None => {
                    let p = store.create_partnership(
                        account,
                        &contact.device_id,
                        &contact.device_type,
                        &contact.user_agent,
                    )?;
                    tracing::info!(
                        account = account.0,
                        device = %contact.device_id,
                        device_type = %contact.device_type,
                        "new partnership"
                    );
                    p
                }
            };
            let changed = p.device_type != contact.device_type
                || (!contact.user_agent.is_empty() && p.user_agent != contact.user_agent)
                || p.protocol_version != contact.protocol_version;
            // The statistics (last attempt, last success) are kept by `record_activity`
            // after the command; here only a changed identity is written.
            if changed {
                p.device_type = contact.device_type;
                if !contact.user_agent.is_empty() {
                    p.user_agent = contact.user_agent;
                }
                p.protocol_version = contact.protocol_version;
                store.update_partnership(&p)?;
            }
            Ok(p)
        })
        .await
    }

    /// Saves a partnership the command changed.
    pub async fn save_partnership(&self, partnership: Partnership) -> Result<(), EngineError> {
        self.blocking(move |store| Ok(store.update_partnership(&partnership)?))
            .await
    }

    /// The policy that applies to a user now.
    pub async fn policy_for(&self, email: &str) -> Result<AssignedPolicy, EngineError> {
        let email = email.to_owned();
        self.blocking(move |store| Ok(Policies::load(store)?.for_user(&email)))
            .await
    }

    /// Adds one request to the device's statistics (in place: concurrent requests of the
    /// device don't lose each other's counts).
    pub async fn record_activity(
        &self,
        id: easd_store::PartnershipId,
        activity: easd_store::PartnershipActivity,
    ) -> Result<(), EngineError> {
        self.blocking(move |store| Ok(store.record_partnership_activity(id, &activity)?))
            .await
    }
}

/// The device's step of the Provision handshake (MS-ASPROV 3.1.5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProvisionStep {
    /// First request: asks for the policy.
    Request,
    /// Acknowledgement of a policy key with the device's status (1 = applied).
    Acknowledge { policy_key: u32, status: u32 },
}

/// The server's answer to a Provision step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProvisionAnswer {
    /// The policy with a temporary key, to acknowledge.
    Policy { temporary_key: u32 },
    /// The acknowledgement was accepted: the final key.
    Final { policy_key: u32 },
    /// The acknowledged key is not the one handed out (Policy Status 5).
    WrongPolicyKey,
    /// The device can't apply the whole policy and the policy does not admit such devices
    /// (Provision Status 139, MS-ASPROV 3.1.5.2).
    NotFullyProvisionable,
}

impl Engine {
    /// Runs one step of the handshake and records it on the partnership.
    pub async fn provision(
        &self,
        partnership: &Partnership,
        policy: &AssignedPolicy,
        step: ProvisionStep,
    ) -> Result<ProvisionAnswer, EngineError> {
        let id = partnership.id;
        let policy = policy.clone();
        self.blocking(move |store| {
            // Re-read: an admin may have decided about the device since the request began,
            // and this write must not undo it.
            let Some(mut p) = store.partnership_by_id(id)? else {
                return Err(EngineError::NotFound("partnership".into()));
            };
            let answer = provision_step(&mut p, &policy, step);
            if matches!(
                answer,
                ProvisionAnswer::Policy { .. } | ProvisionAnswer::Final { .. }
            ) {
                store.update_partnership(&p)?;
            }
            Ok(answer)
        })
        .await
    }
}

/// One step of the handshake on the partnership (MS-ASPROV 3.2.5.1).
fn provision_step(
    p: &mut Partnership,
    policy: &AssignedPolicy,
    step: ProvisionStep,
) -> ProvisionAnswer {
    match step {
        // MS-ASPROV 2.2.2.54.1: Status 2-4 says the device did not apply all of it.
        ProvisionStep::Acknowledge { policy_key, status }
            if status != 1
                && !policy.policy.allow_non_provisionable_devices
                && p.policy_status == policy_status::PENDING
                && i64::from(policy_key) == p.policy_key =>
        {
            tracing::warn!(partnership = p.id.0, device = %p.device_id, status,
                policy = %policy.name, "device can't apply the whole policy: refused");
            ProvisionAnswer::NotFullyProvisionable
        }
        ProvisionStep::Request => {
            let key = new_policy_key();
            p.policy_key = i64::from(key);
            p.policy_status = policy_status::PENDING;
            // The revision handed out is the one the device acknowledges: a change
            // between the two steps is caught at its next request (Status 143).
            p.provisioned_policy = policy.tag();
            ProvisionAnswer::Policy { temporary_key: key }
        }
        ProvisionStep::Acknowledge { policy_key, .. }
            if p.policy_status == policy_status::PENDING
                && i64::from(policy_key) == p.policy_key =>
        {
            let key = new_policy_key();
            p.policy_key = i64::from(key);
            p.policy_status = policy_status::PROVISIONED;
            p.provisioned_at = Some(time::OffsetDateTime::now_utc().unix_timestamp());
            tracing::info!(partnership = p.id.0, device = %p.device_id,
                policy = %p.provisioned_policy, "device provisioned");
            ProvisionAnswer::Final { policy_key: key }
        }
        // The device lost our answer to its acknowledgement and sends it again.
        ProvisionStep::Acknowledge { policy_key, .. }
            if p.policy_status == policy_status::PROVISIONED
                && i64::from(policy_key) == p.policy_key =>
        {
            ProvisionAnswer::Final { policy_key }
        }
        ProvisionStep::Acknowledge { policy_key, .. } => {
            tracing::info!(
                partnership = p.id.0,
                device = %p.device_id,
                presented = policy_key,
                "Provision acknowledgement with a key we did not hand out"
            );
            ProvisionAnswer::WrongPolicyKey
        }
    }
}

/// Settings DeviceInformation (MS-ASCMD 2.2.3.43), as sent in Provision or Settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceInformation {
    pub model: Option<String>,
    pub imei: Option<String>,
    pub friendly_name: Option<String>,
    pub os: Option<String>,
    pub os_language: Option<String>,
    pub phone_number: Option<String>,
    pub user_agent: Option<String>,
    pub mobile_operator: Option<String>,
}

impl Engine {
    /// Records what the device says about itself on its partnership.
    pub async fn set_device_information(
        &self,
        partnership: &Partnership,
        info: DeviceInformation,
    ) -> Result<(), EngineError> {
        let id = partnership.id;
        self.blocking(move |store| {
            // Re-read: the partnership may have changed since the request began.
            let Some(mut p) = store.partnership_by_id(id)? else {
                return Ok(());
            };
            let set = |slot: &mut String, v: Option<String>| {
                if let Some(v) = v {
                    *slot = v.chars().take(256).collect();
                }
            };
            set(&mut p.model, info.model);
            set(&mut p.imei, info.imei);
            set(&mut p.friendly_name, info.friendly_name);
            set(&mut p.os, info.os);
            set(&mut p.os_language, info.os_language);
            set(&mut p.phone_number, info.phone_number);
            set(&mut p.user_agent, info.user_agent);
            set(&mut p.mobile_operator, info.mobile_operator);
            store.update_partnership(&p)?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Policy, DEFAULT_POLICY};

    fn provisioned(tag: &str, at: i64) -> Partnership {
        let mut p: Partnership = serde_json::from_value(serde_json::json!({
            "id": 1, "account": 1, "device_id": "D", "device_type": "T", "user_agent": "",
            "protocol_version": "16.1", "model": "", "imei": "", "friendly_name": "", "os": "",
            "os_language": "", "phone_number": "", "mobile_operator": "", "created_at": 0,
            "first_sync": null, "last_sync": null, "last_sync_attempt": null, "last_ping": null,
            "last_heartbeat": null, "policy_key": 42, "policy_status": 2,
            "provisioned_policy": "", "access_state": "allowed", "access_reason": "",
            "wipe_state": "none", "wipe_requested_at": null, "wipe_acked_at": null,
            "items_sent": 0, "items_received": 0, "last_error": "", "ping_folders": null,
            "ping_heartbeat": 0
        }))
        .expect("partnership json");
        p.provisioned_policy = tag.to_owned();
        p.provisioned_at = Some(at);
        p
    }

    fn assigned(revision: u64, refresh: Option<u64>) -> AssignedPolicy {
        AssignedPolicy {
            name: DEFAULT_POLICY.into(),
            policy: Policy {
                revision,
                refresh_interval: refresh,
                ..Default::default()
            },
        }
    }

    #[test]
    fn policy_changes_and_refresh_ask_for_provision() {
        let current = assigned(3, None);
        let p = provisioned(&current.tag(), 1000);
        assert_eq!(
            check_policy_key(&p, Some(42), &current, 5000),
            PolicyVerdict::Current
        );
        assert_eq!(
            check_policy_key(&p, Some(41), &current, 5000),
            PolicyVerdict::Reprovision(CommonStatus::InvalidPolicyKey)
        );
        assert_eq!(
            check_policy_key(&p, None, &current, 5000),
            PolicyVerdict::Reprovision(CommonStatus::DeviceNotProvisioned)
        );
        // MS-ASCMD 2.2.2 Status 143 when the policy changed ...
        assert_eq!(
            check_policy_key(&p, Some(42), &assigned(4, None), 5000),
            PolicyVerdict::Reprovision(CommonStatus::PolicyRefresh)
        );
        // ... and when the refresh interval ran out, not before.
        let refreshing = assigned(3, Some(600));
        assert_eq!(
            check_policy_key(&p, Some(42), &refreshing, 1599),
            PolicyVerdict::Current
        );
        assert_eq!(
            check_policy_key(&p, Some(42), &refreshing, 1600),
            PolicyVerdict::Reprovision(CommonStatus::PolicyRefresh)
        );
    }

    #[test]
    fn a_policy_changed_during_the_handshake_is_caught_at_the_next_request() {
        let old = assigned(1, None);
        let mut p = provisioned("", 0);
        p.policy_status = policy_status::NONE;
        let ProvisionAnswer::Policy { temporary_key } =
            provision_step(&mut p, &old, ProvisionStep::Request)
        else {
            panic!("the policy with a temporary key")
        };
        let new = assigned(2, None);
        let ack = ProvisionStep::Acknowledge {
            policy_key: temporary_key,
            status: 1,
        };
        let ProvisionAnswer::Final { policy_key } = provision_step(&mut p, &new, ack) else {
            panic!("the final key")
        };
        assert_eq!(p.provisioned_policy, old.tag());
        assert_eq!(
            check_policy_key(&p, Some(policy_key), &new, 0),
            PolicyVerdict::Reprovision(CommonStatus::PolicyRefresh)
        );
        // Refused when the policy does not admit devices that can't apply all of it.
        let strict = AssignedPolicy {
            name: "strict".into(),
            policy: Policy {
                allow_non_provisionable_devices: false,
                ..Default::default()
            },
        };
        let ProvisionAnswer::Policy { temporary_key } =
            provision_step(&mut p, &strict, ProvisionStep::Request)
        else {
            panic!("the policy with a temporary key")
        };
        let partial = ProvisionStep::Acknowledge {
            policy_key: temporary_key,
            status: 2,
        };
        assert_eq!(
            provision_step(&mut p, &strict, partial),
            ProvisionAnswer::NotFullyProvisionable
        );
    }
}
