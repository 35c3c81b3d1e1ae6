//! Provision (MS-ASPROV 3.2.5): the policy with a temporary key, then the device's
//! acknowledgement and the final key.

use super::{CommandResponse, Ctx};
use crate::access_log::AccessRecord;
use easd_engine::devices::{ProvisionAnswer, ProvisionStep};
use easd_engine::EngineError;
use easd_protocol::commands::provision::{
    PolicyResponse, ProvisionRequest, ProvisionResponse, POLICY_TYPE_WBXML,
};
use easd_protocol::status::{CommonStatus, PolicyStatus, ProvisionStatus, SettingsStatus};
use easd_store::WipeState;
use easd_wbxml::Element;

pub async fn handle(
    ctx: &Ctx,
    root: Option<Element>,
    record: &mut AccessRecord,
) -> Result<CommandResponse, EngineError> {
    let request = match root.as_ref().map(ProvisionRequest::parse) {
        Some(Ok(r)) => r,
        None | Some(Err(_)) => {
            record.eas_status = Some(ProvisionStatus::ProtocolError.code());
            return Ok(CommandResponse::Wbxml(
                ProvisionResponse::protocol_error().to_element(),
            ));
        }
    };
    let mut response = ProvisionResponse::status(ProvisionStatus::Success);
    // Remote wipe (MS-ASPROV 3.2.5.1.2.2): a pending wipe is answered with the directive
    // instead of a policy; the device's RemoteWipe/Status acknowledgement is recorded.
    let pending = matches!(
        ctx.partnership.wipe_state,
        WipeState::PendingFull | WipeState::PendingAccount
    );
    if pending {
        if let Some(ack) = request.remote_wipe.or(request.account_only_remote_wipe) {
            ctx.engine()
                .acknowledge_wipe(&ctx.partnership, ack.code())
                .await?;
        } else if ctx.partnership.wipe_state == WipeState::PendingAccount {
            // AccountOnlyRemoteWipe exists from 16.1 (MS-ASPROV 2.2.2.1).
            if ctx.version() < easd_protocol::ProtocolVersion::V16_1 {
                tracing::warn!(device = %ctx.partnership.device_id,
                    "account-only wipe pending for a device below EAS 16.1");
            }
            response.account_only_remote_wipe = true;
        } else {
            response.remote_wipe = true;
        }
        record.eas_status = Some(response.status.code());
        return Ok(CommandResponse::Wbxml(response.to_element()));
    }
    if let Some(info) = &request.device_information {
        ctx.engine()
            .set_device_information(&ctx.partnership, device_information(info))
            .await?;
        response.device_information_status = Some(SettingsStatus::Success);
    }
    if let Some(policy) = &request.policy {
        if policy.policy_type != POLICY_TYPE_WBXML {
            response.policy = Some(PolicyResponse {
                policy_type: policy.policy_type.clone(),
                status: PolicyStatus::UnknownPolicyType,
                policy_key: 0,
                data: None,
            });
        } else {
            let step = match &policy.ack {
                None => ProvisionStep::Request,
                Some(ack) => ProvisionStep::Acknowledge {
                    policy_key: ack.policy_key,
                    status: u32::from(ack.status.code()),
                },
            };
            let answer = ctx
                .engine()
                .provision(&ctx.partnership, &ctx.policy, step)
                .await?;
            let (status, policy_key, data) = match answer {
                // The user's policy now (MS-ASPROV 2.2.2.28 EASProvisionDoc).
                ProvisionAnswer::Policy { temporary_key } => (
                    PolicyStatus::Success,
                    temporary_key,
                    Some(ctx.policy.policy.doc()),
                ),
                ProvisionAnswer::Final { policy_key } => (PolicyStatus::Success, policy_key, None),
                ProvisionAnswer::WrongPolicyKey => (PolicyStatus::WrongPolicyKey, 0, None),
                // MS-ASPROV 3.1.5.2: Status 139, the device can't comply and the policy
                // does not admit such devices.
                ProvisionAnswer::NotFullyProvisionable => {
                    let response =
                        ProvisionResponse::status(CommonStatus::DeviceNotFullyProvisionable.into());
                    record.eas_status = Some(response.status.code());
                    return Ok(CommandResponse::Wbxml(response.to_element()));
                }
            };
            response.policy = Some(PolicyResponse {
                policy_type: POLICY_TYPE_WBXML.to_owned(),
                status,
                policy_key,
                data,
            });
        }
    }
    record.eas_status = Some(response.status.code());
    Ok(CommandResponse::Wbxml(response.to_element()))
}

fn device_information(
    info: &easd_protocol::commands::settings::DeviceInformation,
) -> easd_engine::devices::DeviceInformation {
    easd_engine::devices::DeviceInformation {
        model: info.model.clone(),
        imei: info.imei.clone(),
        friendly_name: info.friendly_name.clone(),
        os: info.os.clone(),
        os_language: info.os_language.clone(),
        phone_number: info.phone_number.clone(),
        user_agent: info.user_agent.clone(),
        mobile_operator: info.mobile_operator.clone(),
    }
}
