//! Settings against the corpus examples.

mod common;

use common::{assert_matches_corpus, corpus};
use easd_protocol::commands::settings::*;
use easd_protocol::status::SettingsStatus;

#[test]
fn oof_get() {
    let req = SettingsRequest::parse(&corpus("53-settings-oof-get-request.xml")).unwrap();
    assert_eq!(
        req.oof,
        Some(OofRequest::Get {
            body_type: OofBodyType::Text
        })
    );

    let message = |audience, enabled, reply: Option<&str>| OofMessage {
        audience,
        enabled: Some(enabled),
        reply_message: reply.map(String::from),
        body_type: reply.map(|_| OofBodyType::Text),
    };
    let resp = SettingsResponse {
        oof: Some(OofResponse {
            status: SettingsStatus::Success,
            get: Some(OofSettings {
                state: Some(OofState::TimeBased),
                start_time: Some("2012-06-01T00:00:00.000Z".into()),
                end_time: Some("2012-06-15T00:00:00.000Z".into()),
                messages: vec![
                    message(
                        OofAudience::Internal,
                        true,
                        Some("I am out of the office until June 15."),
                    ),
                    message(
                        OofAudience::ExternalKnown,
                        true,
                        Some("Out of office; replies may be delayed."),
                    ),
                    message(OofAudience::ExternalUnknown, false, None),
                ],
            }),
        }),
        ..SettingsResponse::status(SettingsStatus::Success)
    };
    assert_matches_corpus(&resp.to_element(), "54-settings-oof-get-response.xml");
}

#[test]
fn oof_set() {
    let req = SettingsRequest::parse(&corpus("55-settings-oof-set-request.xml")).unwrap();
    let Some(OofRequest::Set(set)) = req.oof else {
        panic!("not an Oof Set");
    };
    assert_eq!(set.state, Some(OofState::Global));
    assert_eq!(
        set.messages,
        vec![OofMessage {
            audience: OofAudience::Internal,
            enabled: Some(true),
            reply_message: Some("<p>Away & offline</p>".into()),
            body_type: Some(OofBodyType::Html),
        }]
    );
}

#[test]
fn device_information_user_information_rights_management() {
    let req = SettingsRequest::parse(&corpus("56-settings-deviceinformation-request.xml")).unwrap();
    let info = req.device_information.unwrap();
    assert_eq!(info.model.as_deref(), Some("iPhone9C4"));
    assert_eq!(info.friendly_name.as_deref(), Some("Chris's iPhone"));
    assert_eq!(info.enable_outbound_sms, Some(true));
    assert_eq!(info.mobile_operator.as_deref(), Some("Telekom.de"));
    assert!(req.user_information);
    assert!(req.rights_management_information);
}

#[test]
fn user_information_response() {
    let resp = SettingsResponse {
        device_information: Some(SettingsStatus::Success),
        user_information: Some(UserInformationResponse {
            status: SettingsStatus::Success,
            get: Some(UserInformation::Accounts(vec![
                Account {
                    account_id: Some("1".into()),
                    account_name: Some("Chris Gray".into()),
                    user_display_name: Some("Chris Gray".into()),
                    send_disabled: None,
                    email_addresses: EmailAddresses {
                        smtp_addresses: vec![
                            "chris@example.com".into(),
                            "chris.gray@example.com".into(),
                        ],
                        primary_smtp_address: Some("chris@example.com".into()),
                    },
                },
                Account {
                    account_id: Some("2".into()),
                    account_name: Some("Shared: Support".into()),
                    user_display_name: Some("Support".into()),
                    send_disabled: Some(true),
                    email_addresses: EmailAddresses {
                        smtp_addresses: vec![],
                        primary_smtp_address: Some("support@example.com".into()),
                    },
                },
            ])),
        }),
        ..SettingsResponse::status(SettingsStatus::Success)
    };
    assert_matches_corpus(
        &resp.to_element(),
        "57-settings-userinformation-response.xml",
    );
}

#[test]
fn rights_management_response() {
    let template = |id: &str, name: &str, description: &str| RightsManagementTemplate {
        template_id: id.into(),
        template_name: name.into(),
        template_description: description.into(),
    };
    let resp = SettingsResponse {
        rights_management_information: Some(RightsManagementInformationResponse {
            status: SettingsStatus::Success,
            get: Some(vec![
                template(
                    "cf5cf348-a8d7-40d5-91ef-a600b88a395d",
                    "Do Not Forward",
                    "Recipients can read but not forward, print or copy.",
                ),
                template(
                    "4a7c2f53-0b1d-4c7e-9d2b-000000000001",
                    "Contoso Confidential",
                    "Only Contoso employees can open this content.",
                ),
            ]),
        }),
        ..SettingsResponse::status(SettingsStatus::Success)
    };
    assert_matches_corpus(
        &resp.to_element(),
        "58-settings-rightsmanagement-response.xml",
    );
}

#[test]
fn device_password() {
    let req = SettingsRequest::parse(&corpus("59-settings-devicepassword-request.xml")).unwrap();
    assert_eq!(
        req.device_password,
        Some(DevicePassword("recovery-4711".into()))
    );
}
