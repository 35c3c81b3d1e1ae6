//! Settings (MS-ASCMD 2.2.1.18): Out of Office, device information, the device password,
//! the user's addresses and rights management templates; each part answered with its own
//! Status.

use super::{CommandResponse, Ctx};
use crate::access_log::AccessRecord;
use easd_engine::EngineError;
use easd_protocol::commands::settings::{
    OofRequest, OofResponse, RightsManagementInformationResponse, SettingsRequest,
    SettingsResponse, UserInformationResponse,
};
use easd_protocol::status::SettingsStatus;
use easd_wbxml::Element;

pub async fn handle(
    ctx: &Ctx,
    root: Option<Element>,
    record: &mut AccessRecord,
) -> Result<CommandResponse, EngineError> {
    let request = match root.as_ref().map(SettingsRequest::parse) {
        Some(Ok(r)) => r,
        None | Some(Err(_)) => {
            let response = SettingsResponse::protocol_error();
            record.eas_status = Some(response.status.code());
            return Ok(CommandResponse::Wbxml(response.to_element()));
        }
    };
    let engine = ctx.engine();
    let account = ctx.request.account.id;
    let mut response = SettingsResponse::status(SettingsStatus::Success);
    response.oof = match request.oof {
        None => None,
        Some(OofRequest::Get { body_type }) => Some(OofResponse {
            status: SettingsStatus::Success,
            get: Some(engine.oof(account).await?.to_get(body_type)),
        }),
        Some(OofRequest::Set(set)) => Some(OofResponse {
            status: engine.set_oof(account, set).await?,
            get: None,
        }),
    };
    if request.device_password.is_some() {
        // DevicePassword/Set: the recovery password is accepted; easd offers no way to
        // read it back, so it is not kept (and never logged).
        response.device_password = Some(SettingsStatus::Success);
    }
    if let Some(info) = &request.device_information {
        engine
            .set_device_information(
                &ctx.partnership,
                easd_engine::settings::device_information(info),
            )
            .await?;
        response.device_information = Some(SettingsStatus::Success);
    }
    if request.user_information {
        response.user_information = Some(UserInformationResponse {
            status: SettingsStatus::Success,
            get: Some(engine.user_information(account, ctx.version()).await?),
        });
    }
    if request.rights_management_information {
        response.rights_management_information = Some(RightsManagementInformationResponse {
            status: SettingsStatus::Success,
            get: Some(engine.rights_management_templates()),
        });
    }
    record.eas_status = Some(response.status.code());
    Ok(CommandResponse::Wbxml(response.to_element()))
}
