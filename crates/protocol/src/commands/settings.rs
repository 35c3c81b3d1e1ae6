//! Settings (MS-ASCMD 2.2.1.18): gets and sets global properties: Out of Office, device
//! information, the device password, the user's addresses and the rights management templates.
//!
//! ```text
//! request:  Settings/{Oof?/(Get/BodyType | Set/{OofState?, StartTime?, EndTime?, OofMessage*}),
//!                     DevicePassword?/Set/Password, DeviceInformation?/Set/{Model?, ...},
//!                     UserInformation?/Get, RightsManagementInformation?/Get}
//! response: Settings/{Status, Oof?/{Status, Get?}, DevicePassword?/Status,
//!                     DeviceInformation?/Status, UserInformation?/{Status, Get?},
//!                     RightsManagementInformation?/{Status, Get?}}
//! ```
//! [`DeviceInformation`] is also carried by Provision (MS-ASPROV 2.2.2.53).

use crate::element::{invalid_value, ElementExt};
use crate::error::ParseError;
use crate::macros::code_enum;
use crate::status::SettingsStatus;
use easd_wbxml::tags::{rights_management as rm, settings as st};
use easd_wbxml::Element;
use std::fmt;

/// Longest value accepted for a DeviceInformation field, an OOF time or a body type.
const MAX_FIELD_LEN: usize = 1024;
/// Longest OOF reply message accepted.
const MAX_REPLY_MESSAGE_LEN: usize = 64 * 1024;

code_enum! {
    /// Out of Office state (MS-ASCMD 2.2.3.124 OofState).
    OofState: u8 {
        Disabled = 0,
        /// Enabled, without a time window.
        Global = 1,
        /// Enabled between StartTime and EndTime.
        TimeBased = 2,
    }
}

/// Format of an OOF reply message (MS-ASCMD BodyType (Settings)): "Text" or "HTML".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OofBodyType {
    Text,
    Html,
}

impl OofBodyType {
    pub fn as_str(self) -> &'static str {
        match self {
            OofBodyType::Text => "Text",
            OofBodyType::Html => "HTML",
        }
    }

    fn parse(e: &Element) -> Result<Self, ParseError> {
        let text = e.text().unwrap_or_default();
        match text.trim() {
            t if t.eq_ignore_ascii_case("Text") => Ok(OofBodyType::Text),
            t if t.eq_ignore_ascii_case("HTML") => Ok(OofBodyType::Html),
            _ => Err(invalid_value(e.tag, &text, "expected Text or HTML")),
        }
    }
}

impl fmt::Display for OofBodyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whom an OOF message answers (MS-ASCMD AppliesToInternal, ...): AppliesToInternal,
/// AppliesToExternalKnown or AppliesToExternalUnknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OofAudience {
    Internal,
    ExternalKnown,
    ExternalUnknown,
}

impl OofAudience {
    fn tag(self) -> easd_wbxml::Tag {
        match self {
            OofAudience::Internal => st::APPLIES_TO_INTERNAL,
            OofAudience::ExternalKnown => st::APPLIES_TO_EXTERNAL_KNOWN,
            OofAudience::ExternalUnknown => st::APPLIES_TO_EXTERNAL_UNKNOWN,
        }
    }
}

/// One OOF message (MS-ASCMD OofMessage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OofMessage {
    pub audience: OofAudience,
    pub enabled: Option<bool>,
    pub reply_message: Option<String>,
    pub body_type: Option<OofBodyType>,
}

impl OofMessage {
    fn parse(e: &Element) -> Result<Self, ParseError> {
        let audiences = [
            OofAudience::Internal,
            OofAudience::ExternalKnown,
            OofAudience::ExternalUnknown,
        ];
        let mut present = audiences.into_iter().filter(|a| e.child(a.tag()).is_some());
        let audience = present.next().ok_or(ParseError::MissingElement {
            parent: st::OOF_MESSAGE,
            element: st::APPLIES_TO_INTERNAL,
        })?;
        if present.next().is_some() {
            return Err(ParseError::Invalid {
                element: st::OOF_MESSAGE,
                reason: "more than one AppliesTo element",
            });
        }
        Ok(OofMessage {
            audience,
            enabled: e.optional_bool(st::ENABLED)?,
            reply_message: e.optional_text_max(st::REPLY_MESSAGE, MAX_REPLY_MESSAGE_LEN)?,
            body_type: e.child(st::BODY_TYPE).map(OofBodyType::parse).transpose()?,
        })
    }

    fn to_element(&self) -> Element {
        let mut e = Element::new(st::OOF_MESSAGE);
        e.push(Element::new(self.audience.tag()))
            .push_opt_bool(st::ENABLED, self.enabled)
            .push_opt(st::REPLY_MESSAGE, self.reply_message.as_ref())
            .push_opt(st::BODY_TYPE, self.body_type);
        e
    }
}

/// The Out of Office settings, as Oof/Set carries them and Oof/Get returns them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OofSettings {
    pub state: Option<OofState>,
    /// MS-ASDTYPE dateTime, e.g. "2012-06-01T00:00:00.000Z"; with [`OofState::TimeBased`].
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub messages: Vec<OofMessage>,
}

impl OofSettings {
    fn parse(set: &Element) -> Result<Self, ParseError> {
        Ok(OofSettings {
            state: set.optional_parse(st::OOF_STATE)?,
            start_time: set.optional_text_max(st::START_TIME, MAX_FIELD_LEN)?,
            end_time: set.optional_text_max(st::END_TIME, MAX_FIELD_LEN)?,
            messages: set
                .children_with(st::OOF_MESSAGE)
                .map(OofMessage::parse)
                .collect::<Result<_, _>>()?,
        })
    }

    fn write_into(&self, e: &mut Element) {
        e.push_opt(st::OOF_STATE, self.state)
            .push_opt(st::START_TIME, self.start_time.as_ref())
            .push_opt(st::END_TIME, self.end_time.as_ref());
        for m in &self.messages {
            e.push(m.to_element());
        }
    }
}

/// The Oof part of a Settings request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OofRequest {
    /// Get the settings, with messages in this body type.
    Get {
        body_type: OofBodyType,
    },
    Set(OofSettings),
}

/// Information about the device (MS-ASCMD DeviceInformation; MS-ASPROV 2.2.2.53),
/// sent in Settings and, from 14.1 on, in Provision.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceInformation {
    pub model: Option<String>,
    pub imei: Option<String>,
    pub friendly_name: Option<String>,
    pub os: Option<String>,
    pub os_language: Option<String>,
    pub phone_number: Option<String>,
    pub user_agent: Option<String>,
    pub enable_outbound_sms: Option<bool>,
    pub mobile_operator: Option<String>,
}

impl DeviceInformation {
    /// Parses a `settings:DeviceInformation` element (its `Set` child holds the fields).
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        let set = e.required(st::SET)?;
        let field = |tag| set.optional_text_max(tag, MAX_FIELD_LEN);
        Ok(DeviceInformation {
            model: field(st::MODEL)?,
            imei: field(st::IMEI)?,
            friendly_name: field(st::FRIENDLY_NAME)?,
            os: field(st::OS)?,
            os_language: field(st::OS_LANGUAGE)?,
            phone_number: field(st::PHONE_NUMBER)?,
            user_agent: field(st::USER_AGENT)?,
            enable_outbound_sms: set.optional_bool(st::ENABLE_OUTBOUND_SMS)?,
            mobile_operator: field(st::MOBILE_OPERATOR)?,
        })
    }

    /// Writes `settings:DeviceInformation/Set/...` (for clients and tests).
    pub fn to_element(&self) -> Element {
        let mut set = Element::new(st::SET);
        set.push_opt(st::MODEL, self.model.as_ref())
            .push_opt(st::IMEI, self.imei.as_ref())
            .push_opt(st::FRIENDLY_NAME, self.friendly_name.as_ref())
            .push_opt(st::OS, self.os.as_ref())
            .push_opt(st::OS_LANGUAGE, self.os_language.as_ref())
            .push_opt(st::PHONE_NUMBER, self.phone_number.as_ref())
            .push_opt(st::USER_AGENT, self.user_agent.as_ref())
            .push_opt_bool(st::ENABLE_OUTBOUND_SMS, self.enable_outbound_sms)
            .push_opt(st::MOBILE_OPERATOR, self.mobile_operator.as_ref());
        Element::new(st::DEVICE_INFORMATION).with(set)
    }
}

/// The recovery password a device stores on the server (MS-ASCMD Password (Settings)).
/// Debug output hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct DevicePassword(pub String);

impl fmt::Debug for DevicePassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DevicePassword(<hidden>)")
    }
}

/// Settings request: each part present is one thing to get or set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SettingsRequest {
    pub oof: Option<OofRequest>,
    /// DevicePassword/Set/Password.
    pub device_password: Option<DevicePassword>,
    /// DeviceInformation/Set.
    pub device_information: Option<DeviceInformation>,
    /// UserInformation/Get.
    pub user_information: bool,
    /// RightsManagementInformation/Get.
    pub rights_management_information: bool,
}

impl SettingsRequest {
    pub fn parse(root: &Element) -> Result<Self, ParseError> {
        root.expect_tag(st::SETTINGS)?;
        let oof = match root.child(st::OOF) {
            None => None,
            Some(oof) => Some(if let Some(get) = oof.child(st::GET) {
                OofRequest::Get {
                    body_type: OofBodyType::parse(get.required(st::BODY_TYPE)?)?,
                }
            } else if let Some(set) = oof.child(st::SET) {
                OofRequest::Set(OofSettings::parse(set)?)
            } else {
                return Err(ParseError::MissingElement {
                    parent: st::OOF,
                    element: st::GET,
                });
            }),
        };
        let device_password = root
            .child(st::DEVICE_PASSWORD)
            .map(|dp| {
                dp.required(st::SET)?
                    .required_text_max(st::PASSWORD, MAX_FIELD_LEN)
                    .map(DevicePassword)
            })
            .transpose()?;
        let device_information = root
            .child(st::DEVICE_INFORMATION)
            .map(DeviceInformation::parse)
            .transpose()?;
        let get = |tag| -> Result<bool, ParseError> {
            match root.child(tag) {
                None => Ok(false),
                Some(e) => e.required(st::GET).map(|_| true),
            }
        };
        Ok(SettingsRequest {
            oof,
            device_password,
            device_information,
            user_information: get(st::USER_INFORMATION)?,
            rights_management_information: get(st::RIGHTS_MANAGEMENT_INFORMATION)?,
        })
    }
}

/// The Oof part of a Settings response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OofResponse {
    pub status: SettingsStatus,
    /// The settings, in answer to a Get.
    pub get: Option<OofSettings>,
}

/// A set of addresses (MS-ASCMD EmailAddresses).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EmailAddresses {
    pub smtp_addresses: Vec<String>,
    /// 14.1+.
    pub primary_smtp_address: Option<String>,
}

impl EmailAddresses {
    fn to_element(&self) -> Element {
        let mut e = Element::new(st::EMAIL_ADDRESSES);
        for a in &self.smtp_addresses {
            e.push_text(st::SMTP_ADDRESS, a);
        }
        e.push_opt(st::PRIMARY_SMTP_ADDRESS, self.primary_smtp_address.as_ref());
        e
    }
}

/// An account the user can send as (MS-ASCMD Account), 14.1+.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Account {
    pub account_id: Option<String>,
    pub account_name: Option<String>,
    pub user_display_name: Option<String>,
    pub send_disabled: Option<bool>,
    pub email_addresses: EmailAddresses,
}

/// What UserInformation/Get returns; its shape depends on the protocol version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserInformation {
    /// 12.1 and 14.0: Get/EmailAddresses/SMTPAddress*.
    EmailAddresses(EmailAddresses),
    /// 14.1 and later: Get/Accounts/Account*.
    Accounts(Vec<Account>),
}

/// The UserInformation part of a Settings response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInformationResponse {
    pub status: SettingsStatus,
    pub get: Option<UserInformation>,
}

/// A rights management template (MS-ASRM RightsManagementTemplate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RightsManagementTemplate {
    pub template_id: String,
    pub template_name: String,
    pub template_description: String,
}

/// The RightsManagementInformation part of a Settings response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RightsManagementInformationResponse {
    pub status: SettingsStatus,
    /// The templates, in answer to a Get (an empty list writes an empty
    /// RightsManagementTemplates).
    pub get: Option<Vec<RightsManagementTemplate>>,
}

/// Settings response: the overall Status and one part per part of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsResponse {
    pub status: SettingsStatus,
    pub oof: Option<OofResponse>,
    pub device_password: Option<SettingsStatus>,
    pub device_information: Option<SettingsStatus>,
    pub user_information: Option<UserInformationResponse>,
    pub rights_management_information: Option<RightsManagementInformationResponse>,
}

impl SettingsResponse {
    /// A response with only the overall Status (an error).
    pub fn status(status: SettingsStatus) -> Self {
        SettingsResponse {
            status,
            oof: None,
            device_password: None,
            device_information: None,
            user_information: None,
            rights_management_information: None,
        }
    }

    /// The answer to a request that does not parse: Status 2, protocol error.
    pub fn protocol_error() -> Self {
        Self::status(SettingsStatus::ProtocolError)
    }

    pub fn to_element(&self) -> Element {
        let mut root = Element::new(st::SETTINGS);
        root.push_text(st::STATUS, self.status.to_string());
        if let Some(oof) = &self.oof {
            let mut e = Element::new(st::OOF);
            e.push_text(st::STATUS, oof.status.to_string());
            if let Some(settings) = &oof.get {
                let mut get = Element::new(st::GET);
                settings.write_into(&mut get);
                e.push(get);
            }
            root.push(e);
        }
        let status_only = |tag, status: SettingsStatus| {
            Element::new(tag).with_text(st::STATUS, status.to_string())
        };
        if let Some(s) = self.device_password {
            root.push(status_only(st::DEVICE_PASSWORD, s));
        }
        if let Some(s) = self.device_information {
            root.push(status_only(st::DEVICE_INFORMATION, s));
        }
        if let Some(ui) = &self.user_information {
            let mut e = status_only(st::USER_INFORMATION, ui.status);
            match &ui.get {
                None => {}
                Some(UserInformation::EmailAddresses(a)) => {
                    e.push(Element::new(st::GET).with(a.to_element()));
                }
                Some(UserInformation::Accounts(accounts)) => {
                    let mut list = Element::new(st::ACCOUNTS);
                    for a in accounts {
                        let mut acc = Element::new(st::ACCOUNT);
                        acc.push_opt(st::ACCOUNT_ID, a.account_id.as_ref())
                            .push_opt(st::ACCOUNT_NAME, a.account_name.as_ref())
                            .push_opt(st::USER_DISPLAY_NAME, a.user_display_name.as_ref())
                            .push_opt_bool(st::SEND_DISABLED, a.send_disabled)
                            .push(a.email_addresses.to_element());
                        list.push(acc);
                    }
                    e.push(Element::new(st::GET).with(list));
                }
            }
            root.push(e);
        }
        if let Some(rmi) = &self.rights_management_information {
            let mut e = status_only(st::RIGHTS_MANAGEMENT_INFORMATION, rmi.status);
            if let Some(templates) = &rmi.get {
                let mut list = Element::new(rm::RIGHTS_MANAGEMENT_TEMPLATES);
                for t in templates {
                    list.push(
                        Element::new(rm::RIGHTS_MANAGEMENT_TEMPLATE)
                            .with_text(rm::TEMPLATE_ID, &t.template_id)
                            .with_text(rm::TEMPLATE_NAME, &t.template_name)
                            .with_text(rm::TEMPLATE_DESCRIPTION, &t.template_description),
                    );
                }
                e.push(Element::new(st::GET).with(list));
            }
            root.push(e);
        }
        root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(audience: easd_wbxml::Tag, enabled: &str) -> Element {
        Element::new(st::OOF_MESSAGE)
            .with(Element::new(audience))
            .with_text(st::ENABLED, enabled)
    }

    #[test]
    fn parses_oof_get() {
        let req = Element::new(st::SETTINGS).with(
            Element::new(st::OOF).with(Element::new(st::GET).with_text(st::BODY_TYPE, "Text")),
        );
        assert_eq!(
            SettingsRequest::parse(&req).unwrap(),
            SettingsRequest {
                oof: Some(OofRequest::Get {
                    body_type: OofBodyType::Text
                }),
                ..Default::default()
            }
        );
    }

    #[test]
    fn parses_oof_set() {
        let req = Element::new(st::SETTINGS).with(
            Element::new(st::OOF).with(
                Element::new(st::SET).with_text(st::OOF_STATE, "1").with(
                    message(st::APPLIES_TO_INTERNAL, "1")
                        .with_text(st::REPLY_MESSAGE, "<p>Away &amp; offline</p>")
                        .with_text(st::BODY_TYPE, "HTML"),
                ),
            ),
        );
        let parsed = SettingsRequest::parse(&req).unwrap();
        assert_eq!(
            parsed.oof,
            Some(OofRequest::Set(OofSettings {
                state: Some(OofState::Global),
                start_time: None,
                end_time: None,
                messages: vec![OofMessage {
                    audience: OofAudience::Internal,
                    enabled: Some(true),
                    reply_message: Some("<p>Away &amp; offline</p>".into()),
                    body_type: Some(OofBodyType::Html),
                }],
            }))
        );
    }

    #[test]
    fn parses_device_information_and_gets() {
        let info = DeviceInformation {
            model: Some("iPhone9C4".into()),
            imei: Some("353000000000002".into()),
            friendly_name: Some("Chris's iPhone".into()),
            os: Some("iOS 10.3.2 14F89".into()),
            os_language: Some("de-DE".into()),
            phone_number: Some("+4915100000000".into()),
            user_agent: Some("Apple-iPhone9C4/1406.89".into()),
            enable_outbound_sms: Some(true),
            mobile_operator: Some("Telekom.de".into()),
        };
        let req = Element::new(st::SETTINGS)
            .with(info.to_element())
            .with(Element::new(st::USER_INFORMATION).with(Element::new(st::GET)))
            .with(Element::new(st::RIGHTS_MANAGEMENT_INFORMATION).with(Element::new(st::GET)));
        let parsed = SettingsRequest::parse(&req).unwrap();
        assert_eq!(parsed.device_information, Some(info));
        assert!(parsed.user_information);
        assert!(parsed.rights_management_information);
        assert!(parsed.oof.is_none());
    }

    #[test]
    fn parses_device_password_and_hides_it() {
        let req = Element::new(st::SETTINGS).with(
            Element::new(st::DEVICE_PASSWORD)
                .with(Element::new(st::SET).with_text(st::PASSWORD, "recovery-4711")),
        );
        let parsed = SettingsRequest::parse(&req).unwrap();
        assert_eq!(
            parsed.device_password,
            Some(DevicePassword("recovery-4711".into()))
        );
        assert!(!format!("{parsed:?}").contains("4711"));
    }

    #[test]
    fn rejects_bad_requests() {
        let bad = |e: Element| SettingsRequest::parse(&Element::new(st::SETTINGS).with(e));
        assert!(bad(Element::new(st::OOF)).is_err());
        assert!(bad(Element::new(st::OOF).with(Element::new(st::GET))).is_err());
        assert!(bad(
            Element::new(st::OOF).with(Element::new(st::GET).with_text(st::BODY_TYPE, "RTF"))
        )
        .is_err());
        assert!(bad(Element::new(st::OOF).with(
            Element::new(st::SET).with(Element::new(st::OOF_MESSAGE).with_text(st::ENABLED, "1"))
        ))
        .is_err());
        assert!(bad(Element::new(st::OOF).with(Element::new(st::SET).with(
            message(st::APPLIES_TO_INTERNAL, "1").with(Element::new(st::APPLIES_TO_EXTERNAL_KNOWN))
        )))
        .is_err());
        assert!(bad(
            Element::new(st::OOF).with(Element::new(st::SET).with_text(st::OOF_STATE, "3"))
        )
        .is_err());
        assert!(bad(Element::new(st::DEVICE_INFORMATION)).is_err());
        assert!(bad(Element::new(st::DEVICE_PASSWORD).with(Element::new(st::SET))).is_err());
        assert!(bad(Element::new(st::USER_INFORMATION)).is_err());
    }

    #[test]
    fn writes_oof_get_response() {
        let resp = SettingsResponse {
            oof: Some(OofResponse {
                status: SettingsStatus::Success,
                get: Some(OofSettings {
                    state: Some(OofState::TimeBased),
                    start_time: Some("2012-06-01T00:00:00.000Z".into()),
                    end_time: Some("2012-06-15T00:00:00.000Z".into()),
                    messages: vec![
                        OofMessage {
                            audience: OofAudience::Internal,
                            enabled: Some(true),
                            reply_message: Some("Out until June 15.".into()),
                            body_type: Some(OofBodyType::Text),
                        },
                        OofMessage {
                            audience: OofAudience::ExternalUnknown,
                            enabled: Some(false),
                            reply_message: None,
                            body_type: None,
                        },
                    ],
                }),
            }),
            ..SettingsResponse::status(SettingsStatus::Success)
        };
        let expected = Element::new(st::SETTINGS).with_text(st::STATUS, "1").with(
            Element::new(st::OOF).with_text(st::STATUS, "1").with(
                Element::new(st::GET)
                    .with_text(st::OOF_STATE, "2")
                    .with_text(st::START_TIME, "2012-06-01T00:00:00.000Z")
                    .with_text(st::END_TIME, "2012-06-15T00:00:00.000Z")
                    .with(
                        message(st::APPLIES_TO_INTERNAL, "1")
                            .with_text(st::REPLY_MESSAGE, "Out until June 15.")
                            .with_text(st::BODY_TYPE, "Text"),
                    )
                    .with(message(st::APPLIES_TO_EXTERNAL_UNKNOWN, "0")),
            ),
        );
        assert_eq!(resp.to_element(), expected);
    }

    #[test]
    fn writes_user_information_and_rights_management_responses() {
        let resp = SettingsResponse {
            device_information: Some(SettingsStatus::Success),
            user_information: Some(UserInformationResponse {
                status: SettingsStatus::Success,
                get: Some(UserInformation::Accounts(vec![Account {
                    account_id: Some("1".into()),
                    account_name: Some("Chris Gray".into()),
                    user_display_name: Some("Chris Gray".into()),
                    send_disabled: None,
                    email_addresses: EmailAddresses {
                        smtp_addresses: vec!["chris@example.com".into()],
                        primary_smtp_address: Some("chris@example.com".into()),
                    },
                }])),
            }),
            rights_management_information: Some(RightsManagementInformationResponse {
                status: SettingsStatus::Success,
                get: Some(vec![RightsManagementTemplate {
                    template_id: "cf5cf348-a8d7-40d5-91ef-a600b88a395d".into(),
                    template_name: "Do Not Forward".into(),
                    template_description: "Recipients can read but not forward.".into(),
                }]),
            }),
            ..SettingsResponse::status(SettingsStatus::Success)
        };
        let expected = Element::new(st::SETTINGS)
            .with_text(st::STATUS, "1")
            .with(Element::new(st::DEVICE_INFORMATION).with_text(st::STATUS, "1"))
            .with(
                Element::new(st::USER_INFORMATION)
                    .with_text(st::STATUS, "1")
                    .with(
                        Element::new(st::GET).with(
                            Element::new(st::ACCOUNTS).with(
                                Element::new(st::ACCOUNT)
                                    .with_text(st::ACCOUNT_ID, "1")
                                    .with_text(st::ACCOUNT_NAME, "Chris Gray")
                                    .with_text(st::USER_DISPLAY_NAME, "Chris Gray")
                                    .with(
                                        Element::new(st::EMAIL_ADDRESSES)
                                            .with_text(st::SMTP_ADDRESS, "chris@example.com")
                                            .with_text(
                                                st::PRIMARY_SMTP_ADDRESS,
                                                "chris@example.com",
                                            ),
                                    ),
                            ),
                        ),
                    ),
            )
            .with(
                Element::new(st::RIGHTS_MANAGEMENT_INFORMATION)
                    .with_text(st::STATUS, "1")
                    .with(
                        Element::new(st::GET).with(
                            Element::new(rm::RIGHTS_MANAGEMENT_TEMPLATES).with(
                                Element::new(rm::RIGHTS_MANAGEMENT_TEMPLATE)
                                    .with_text(
                                        rm::TEMPLATE_ID,
                                        "cf5cf348-a8d7-40d5-91ef-a600b88a395d",
                                    )
                                    .with_text(rm::TEMPLATE_NAME, "Do Not Forward")
                                    .with_text(
                                        rm::TEMPLATE_DESCRIPTION,
                                        "Recipients can read but not forward.",
                                    ),
                            ),
                        ),
                    ),
            );
        assert_eq!(resp.to_element(), expected);
    }

    #[test]
    fn writes_12_1_user_information() {
        let resp = SettingsResponse {
            user_information: Some(UserInformationResponse {
                status: SettingsStatus::Success,
                get: Some(UserInformation::EmailAddresses(EmailAddresses {
                    smtp_addresses: vec!["a@example.com".into(), "b@example.com".into()],
                    primary_smtp_address: None,
                })),
            }),
            ..SettingsResponse::status(SettingsStatus::Success)
        };
        let el = resp.to_element();
        let addrs = el
            .child(st::USER_INFORMATION)
            .and_then(|u| u.child(st::GET))
            .and_then(|g| g.child(st::EMAIL_ADDRESSES))
            .unwrap();
        assert_eq!(addrs.children_with(st::SMTP_ADDRESS).count(), 2);
        assert!(addrs.child(st::PRIMARY_SMTP_ADDRESS).is_none());
    }
}
