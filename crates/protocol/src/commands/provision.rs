//! Provision (MS-ASCMD 2.2.1.14, specified in MS-ASPROV): the device downloads the security
//! policy, acknowledges it, and acknowledges remote wipes.
//!
//! ```text
//! request:  Provision/{settings:DeviceInformation?, Policies?/Policy/{PolicyType,
//!                      PolicyKey?, Status?}, RemoteWipe?/Status, AccountOnlyRemoteWipe?/Status}
//! response: Provision/{settings:DeviceInformation?/settings:Status, Status,
//!                      Policies?/Policy/{PolicyType, Status, PolicyKey, Data?/EASProvisionDoc},
//!                      RemoteWipe?, AccountOnlyRemoteWipe?}
//! ```
//! The phases (MS-ASPROV 3.2.5.1): the initial request names the PolicyType and gets the
//! policy and a temporary key; the acknowledgment request sends that key with the client's
//! Status and gets the final key.

use crate::commands::settings::DeviceInformation;
use crate::element::ElementExt;
use crate::error::ParseError;
use crate::macros::code_enum;
use crate::status::{PolicyAckStatus, PolicyStatus, ProvisionStatus, RemoteWipeAckStatus};
use crate::values::FilterType;
use easd_wbxml::tags::{provision as pv, settings as st};
use easd_wbxml::{Element, Tag};

/// The PolicyType of protocol versions 12.0 and later (MS-ASPROV 2.2.2.43).
pub const POLICY_TYPE_WBXML: &str = "MS-EAS-Provisioning-WBXML";

/// Longest PolicyType accepted.
const MAX_POLICY_TYPE_LEN: usize = 64;

/// The acknowledgment of a downloaded policy (MS-ASPROV 3.2.5.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyAck {
    /// The temporary key of the initial response.
    pub policy_key: u32,
    pub status: PolicyAckStatus,
}

/// The Policy of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRequest {
    /// [`POLICY_TYPE_WBXML`] for every version easd speaks; another value gets
    /// [`PolicyStatus::UnknownPolicyType`].
    pub policy_type: String,
    /// `None` in the initial request, `Some` in the acknowledgment.
    pub ack: Option<PolicyAck>,
}

/// Provision request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProvisionRequest {
    /// settings:DeviceInformation (14.1 and later).
    pub device_information: Option<DeviceInformation>,
    pub policy: Option<PolicyRequest>,
    /// The client's result of a remote wipe (RemoteWipe/Status).
    pub remote_wipe: Option<RemoteWipeAckStatus>,
    /// The client's result of an account-only remote wipe (16.1).
    pub account_only_remote_wipe: Option<RemoteWipeAckStatus>,
}

impl ProvisionRequest {
    pub fn parse(root: &Element) -> Result<Self, ParseError> {
        root.expect_tag(pv::PROVISION)?;
        let device_information = root
            .child(st::DEVICE_INFORMATION)
            .map(DeviceInformation::parse)
            .transpose()?;
        let policy = root
            .child(pv::POLICIES)
            .map(|policies| {
                let policy = policies.required(pv::POLICY)?;
                let policy_type = policy.required_text_max(pv::POLICY_TYPE, MAX_POLICY_TYPE_LEN)?;
                let key = policy.optional_parse::<u32>(pv::POLICY_KEY)?;
                let status = policy.optional_parse::<PolicyAckStatus>(pv::STATUS)?;
                let ack = match (key, status) {
                    (None, None) => None,
                    (Some(policy_key), Some(status)) => Some(PolicyAck { policy_key, status }),
                    (Some(_), None) => {
                        return Err(ParseError::MissingElement {
                            parent: pv::POLICY,
                            element: pv::STATUS,
                        })
                    }
                    (None, Some(_)) => {
                        return Err(ParseError::MissingElement {
                            parent: pv::POLICY,
                            element: pv::POLICY_KEY,
                        })
                    }
                };
                Ok(PolicyRequest { policy_type, ack })
            })
            .transpose()?;
        let wipe_ack = |tag| {
            root.child(tag)
                .map(|w| w.required_parse::<RemoteWipeAckStatus>(pv::STATUS))
                .transpose()
        };
        Ok(ProvisionRequest {
            device_information,
            policy,
            remote_wipe: wipe_ack(pv::REMOTE_WIPE)?,
            account_only_remote_wipe: wipe_ack(pv::ACCOUNT_ONLY_REMOTE_WIPE)?,
        })
    }
}

code_enum! {
    /// AllowBluetooth (MS-ASPROV).
    AllowBluetooth: u8 {
        Disable = 0,
        /// Allow only the hands-free profile.
        HandsfreeOnly = 1,
        Allow = 2,
    }
}

code_enum! {
    /// RequireSignedSMIMEAlgorithm (MS-ASPROV).
    SignedSmimeAlgorithm: u8 {
        Sha1 = 0,
        Md5 = 1,
    }
}

code_enum! {
    /// RequireEncryptionSMIMEAlgorithm (MS-ASPROV).
    EncryptionSmimeAlgorithm: u8 {
        TripleDes = 0,
        Des = 1,
        Rc2_128 = 2,
        Rc2_64 = 3,
        Rc2_40 = 4,
    }
}

code_enum! {
    /// AllowSMIMEEncryptionAlgorithmNegotiation (MS-ASPROV).
    SmimeAlgorithmNegotiation: u8 {
        /// Do not negotiate.
        NotAllowed = 0,
        /// Negotiate a strong algorithm only.
        StrongOnly = 1,
        /// Negotiate any algorithm.
        Any = 2,
    }
}

/// A policy setting's value as EASProvisionDoc writes it.
trait SettingValue: Sized {
    fn to_text(&self) -> String;
    fn from_text(s: &str) -> Option<Self>;
}

impl SettingValue for bool {
    fn to_text(&self) -> String {
        u8::from(*self).to_string()
    }
    fn from_text(s: &str) -> Option<Self> {
        match s.trim() {
            "1" => Some(true),
            "0" => Some(false),
            _ => None,
        }
    }
}

macro_rules! setting_value_via_str {
    ($($t:ty),*) => {$(
        impl SettingValue for $t {
            fn to_text(&self) -> String {
                self.to_string()
            }
            fn from_text(s: &str) -> Option<Self> {
                s.trim().parse().ok()
            }
        }
    )*};
}
setting_value_via_str!(
    u32,
    i32,
    FilterType,
    AllowBluetooth,
    SignedSmimeAlgorithm,
    EncryptionSmimeAlgorithm,
    SmimeAlgorithmNegotiation
);

macro_rules! eas_provision_doc {
    ($( $(#[$doc:meta])* $field:ident: $ty:ty = $tag:ident, )*) => {
        /// The policy settings (MS-ASPROV 2.2.2.28 EASProvisionDoc), in the spec's order. A
        /// setting that is `None` is left out; the client then keeps its own behaviour.
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct EasProvisionDoc {
            $( $(#[$doc])* pub $field: Option<$ty>, )*
            /// UnapprovedInROMApplicationList/ApplicationName*.
            pub unapproved_in_rom_application_list: Option<Vec<String>>,
            /// ApprovedApplicationList/Hash* (MS-ASPROV 2.2.2.22): SHA-1 hashes.
            pub approved_application_list: Option<Vec<String>>,
        }

        impl EasProvisionDoc {
            pub fn to_element(&self) -> Element {
                let mut doc = Element::new(pv::EAS_PROVISION_DOC);
                $( doc.push_opt(pv::$tag, self.$field.as_ref().map(SettingValue::to_text)); )*
                write_list(
                    &mut doc,
                    pv::UNAPPROVED_IN_ROM_APPLICATION_LIST,
                    pv::APPLICATION_NAME,
                    &self.unapproved_in_rom_application_list,
                );
                write_list(
                    &mut doc,
                    pv::APPROVED_APPLICATION_LIST,
                    pv::HASH,
                    &self.approved_application_list,
                );
                doc
            }

            /// The settings by the spec's element names, in the spec's order, each with its
            /// value as EASProvisionDoc writes it (`None`: left out, the client's own
            /// behaviour). The two application lists are comma-separated.
            pub fn settings(&self) -> Vec<(&'static str, Option<String>)> {
                let mut out = vec![
                    $( (
                        pv::$tag.name().unwrap_or("?"),
                        self.$field.as_ref().map(SettingValue::to_text),
                    ), )*
                ];
                out.push((
                    pv::UNAPPROVED_IN_ROM_APPLICATION_LIST.name().unwrap_or("?"),
                    self.unapproved_in_rom_application_list.as_ref().map(|l| l.join(",")),
                ));
                out.push((
                    pv::APPROVED_APPLICATION_LIST.name().unwrap_or("?"),
                    self.approved_application_list.as_ref().map(|l| l.join(",")),
                ));
                out
            }

            /// Sets one setting by its element name (case-insensitive; `_` and `-` are
            /// ignored, so `min_device_password_length` names MinDevicePasswordLength).
            /// An empty value unsets it. Booleans also take true/false; values are checked
            /// against the spec's ranges.
            pub fn set(&mut self, name: &str, value: &str) -> Result<(), PolicySettingError> {
                let key = setting_key(name);
                let value = value.trim();
                $(
                    if pv::$tag.name().is_some_and(|n| setting_key(n) == key) {
                        self.$field = parse_setting(pv::$tag, value)?;
                        return Ok(());
                    }
                )*
                let list = |v: &str| {
                    (!v.is_empty()).then(|| {
                        v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
                    })
                };
                if pv::UNAPPROVED_IN_ROM_APPLICATION_LIST.name().is_some_and(|n| setting_key(n) == key) {
                    self.unapproved_in_rom_application_list = list(value);
                    return Ok(());
                }
                if pv::APPROVED_APPLICATION_LIST.name().is_some_and(|n| setting_key(n) == key) {
                    self.approved_application_list = list(value);
                    return Ok(());
                }
                Err(PolicySettingError::Unknown(name.to_owned()))
            }

            /// Parses an EASProvisionDoc element (for clients and tests). An empty setting
            /// element reads as unset.
            pub fn parse(doc: &Element) -> Result<Self, ParseError> {
                doc.expect_tag(pv::EAS_PROVISION_DOC)?;
                Ok(EasProvisionDoc {
                    $( $field: read_setting(doc, pv::$tag)?, )*
                    unapproved_in_rom_application_list: read_list(
                        doc,
                        pv::UNAPPROVED_IN_ROM_APPLICATION_LIST,
                        pv::APPLICATION_NAME,
                    ),
                    approved_application_list: read_list(
                        doc,
                        pv::APPROVED_APPLICATION_LIST,
                        pv::HASH,
                    ),
                })
            }
        }
    };
}

eas_provision_doc! {
    /// A device password is required.
    device_password_enabled: bool = DEVICE_PASSWORD_ENABLED,
    /// The password must be alphanumeric.
    alphanumeric_device_password_required: bool = ALPHANUMERIC_DEVICE_PASSWORD_REQUIRED,
    /// The device encrypts its storage card.
    require_storage_card_encryption: bool = REQUIRE_STORAGE_CARD_ENCRYPTION,
    /// The device can store a recovery password on the server.
    password_recovery_enabled: bool = PASSWORD_RECOVERY_ENABLED,
    /// Attachments may be downloaded.
    attachments_enabled: bool = ATTACHMENTS_ENABLED,
    /// Minimum password length, 1–16.
    min_device_password_length: u32 = MIN_DEVICE_PASSWORD_LENGTH,
    /// Seconds of inactivity before the device locks.
    max_inactivity_time_device_lock: u32 = MAX_INACTIVITY_TIME_DEVICE_LOCK,
    /// Failed unlock attempts before the device wipes, 4–16.
    max_device_password_failed_attempts: u32 = MAX_DEVICE_PASSWORD_FAILED_ATTEMPTS,
    /// Largest attachment downloaded, in bytes.
    max_attachment_size: u32 = MAX_ATTACHMENT_SIZE,
    /// Simple passwords ("1111", "1234") are allowed.
    allow_simple_device_password: bool = ALLOW_SIMPLE_DEVICE_PASSWORD,
    /// Days until the password expires; 0: never.
    device_password_expiration: u32 = DEVICE_PASSWORD_EXPIRATION,
    /// Number of previous passwords that cannot be reused.
    device_password_history: u32 = DEVICE_PASSWORD_HISTORY,
    /// Storage cards are allowed.
    allow_storage_card: bool = ALLOW_STORAGE_CARD,
    /// The camera is allowed.
    allow_camera: bool = ALLOW_CAMERA,
    /// The device encrypts its storage.
    require_device_encryption: bool = REQUIRE_DEVICE_ENCRYPTION,
    /// Unsigned applications may run.
    allow_unsigned_applications: bool = ALLOW_UNSIGNED_APPLICATIONS,
    /// Unsigned installation packages may run.
    allow_unsigned_installation_packages: bool = ALLOW_UNSIGNED_INSTALLATION_PACKAGES,
    /// Character classes the password must contain, 1–4.
    min_device_password_complex_characters: u32 = MIN_DEVICE_PASSWORD_COMPLEX_CHARACTERS,
    /// Wi-Fi is allowed.
    allow_wifi: bool = ALLOW_WIFI,
    /// Text messaging is allowed.
    allow_text_messaging: bool = ALLOW_TEXT_MESSAGING,
    /// POP and IMAP mail accounts are allowed.
    allow_pop_imap_email: bool = ALLOW_POP_IMAP_EMAIL,
    /// Bluetooth use.
    allow_bluetooth: AllowBluetooth = ALLOW_BLUETOOTH,
    /// Infrared connections are allowed.
    allow_irda: bool = ALLOW_IRDA,
    /// The device syncs manually while roaming.
    require_manual_sync_when_roaming: bool = REQUIRE_MANUAL_SYNC_WHEN_ROAMING,
    /// Desktop ActiveSync is allowed.
    allow_desktop_sync: bool = ALLOW_DESKTOP_SYNC,
    /// Oldest calendar items synchronized: 0, 4, 5, 6 or 7.
    max_calendar_age_filter: FilterType = MAX_CALENDAR_AGE_FILTER,
    /// HTML mail is allowed.
    allow_html_email: bool = ALLOW_HTML_EMAIL,
    /// Oldest mail synchronized: 0–5.
    max_email_age_filter: FilterType = MAX_EMAIL_AGE_FILTER,
    /// Plain-text body truncation in KB; -1: none, 0: headers only.
    max_email_body_truncation_size: i32 = MAX_EMAIL_BODY_TRUNCATION_SIZE,
    /// HTML body truncation in KB; -1: none, 0: headers only.
    max_email_html_body_truncation_size: i32 = MAX_EMAIL_HTML_BODY_TRUNCATION_SIZE,
    /// Sent mail must be S/MIME signed.
    require_signed_smime_messages: bool = REQUIRE_SIGNED_SMIME_MESSAGES,
    /// Sent mail must be S/MIME encrypted.
    require_encrypted_smime_messages: bool = REQUIRE_ENCRYPTED_SMIME_MESSAGES,
    /// The S/MIME signing algorithm.
    require_signed_smime_algorithm: SignedSmimeAlgorithm = REQUIRE_SIGNED_SMIME_ALGORITHM,
    /// The S/MIME encryption algorithm.
    require_encryption_smime_algorithm: EncryptionSmimeAlgorithm = REQUIRE_ENCRYPTION_SMIME_ALGORITHM,
    /// S/MIME algorithm negotiation.
    allow_smime_encryption_algorithm_negotiation: SmimeAlgorithmNegotiation =
        ALLOW_SMIME_ENCRYPTION_ALGORITHM_NEGOTIATION,
    /// Soft S/MIME certificates are allowed.
    allow_smime_soft_certs: bool = ALLOW_SMIME_SOFT_CERTS,
    /// The browser is allowed.
    allow_browser: bool = ALLOW_BROWSER,
    /// Consumer mail accounts are allowed.
    allow_consumer_email: bool = ALLOW_CONSUMER_EMAIL,
    /// Remote desktop is allowed.
    allow_remote_desktop: bool = ALLOW_REMOTE_DESKTOP,
    /// Internet sharing (tethering) is allowed.
    allow_internet_sharing: bool = ALLOW_INTERNET_SHARING,
}

impl EasProvisionDoc {
    /// Every setting at the value MS-ASPROV gives when a policy does not restrict it
    /// (the element sections of 2.2.2): no device password, nothing disabled, no size or age
    /// limits. The unsignedIntOrEmpty limits (MaxAttachmentSize, MaxInactivityTimeDeviceLock,
    /// MaxDevicePasswordFailedAttempts, MinDevicePasswordLength, DevicePasswordExpiration)
    /// are empty, which the client reads as "no limit".
    pub fn spec_defaults() -> Self {
        EasProvisionDoc {
            device_password_enabled: Some(false),
            alphanumeric_device_password_required: Some(false),
            require_storage_card_encryption: Some(false),
            password_recovery_enabled: Some(false),
            attachments_enabled: Some(true),
            min_device_password_length: None,
            max_inactivity_time_device_lock: None,
            max_device_password_failed_attempts: None,
            max_attachment_size: None,
            allow_simple_device_password: Some(true),
            device_password_expiration: None,
            device_password_history: Some(0),
            allow_storage_card: Some(true),
            allow_camera: Some(true),
            require_device_encryption: Some(false),
            allow_unsigned_applications: Some(true),
            allow_unsigned_installation_packages: Some(true),
            min_device_password_complex_characters: Some(1),
            allow_wifi: Some(true),
            allow_text_messaging: Some(true),
            allow_pop_imap_email: Some(true),
            allow_bluetooth: Some(AllowBluetooth::Allow),
            allow_irda: Some(true),
            require_manual_sync_when_roaming: Some(false),
            allow_desktop_sync: Some(true),
            max_calendar_age_filter: Some(FilterType::NoFilter),
            allow_html_email: Some(true),
            max_email_age_filter: Some(FilterType::NoFilter),
            max_email_body_truncation_size: Some(-1),
            max_email_html_body_truncation_size: Some(-1),
            require_signed_smime_messages: Some(false),
            require_encrypted_smime_messages: Some(false),
            require_signed_smime_algorithm: Some(SignedSmimeAlgorithm::Sha1),
            require_encryption_smime_algorithm: Some(EncryptionSmimeAlgorithm::TripleDes),
            allow_smime_encryption_algorithm_negotiation: Some(SmimeAlgorithmNegotiation::Any),
            allow_smime_soft_certs: Some(true),
            allow_browser: Some(true),
            allow_consumer_email: Some(true),
            allow_remote_desktop: Some(true),
            allow_internet_sharing: Some(true),
            unapproved_in_rom_application_list: None,
            approved_application_list: None,
        }
    }
}

/// A policy setting that can't be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicySettingError {
    #[error("unknown policy setting {0:?}")]
    Unknown(String),
    #[error("{name} = {value:?}: {why}")]
    Invalid {
        name: &'static str,
        value: String,
        why: &'static str,
    },
}

/// A setting's name compared loosely: case and `_`/`-` ignored.
fn setting_key(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// One setting's value from an admin's text, checked against the spec's range.
fn parse_setting<T: SettingValue>(tag: Tag, value: &str) -> Result<Option<T>, PolicySettingError> {
    if value.is_empty() {
        return Ok(None);
    }
    let name = tag.name().unwrap_or("?");
    let invalid = |why| PolicySettingError::Invalid {
        name,
        value: value.to_owned(),
        why,
    };
    let text = match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" => "1".to_owned(),
        "false" | "no" | "off" => "0".to_owned(),
        _ => value.to_owned(),
    };
    let number = text.parse::<i64>().ok();
    let range = match tag {
        pv::MIN_DEVICE_PASSWORD_LENGTH => Some((1, 16, "between 1 and 16")),
        pv::MAX_DEVICE_PASSWORD_FAILED_ATTEMPTS => Some((4, 16, "between 4 and 16")),
        pv::MIN_DEVICE_PASSWORD_COMPLEX_CHARACTERS => Some((1, 4, "between 1 and 4")),
        pv::MAX_EMAIL_BODY_TRUNCATION_SIZE | pv::MAX_EMAIL_HTML_BODY_TRUNCATION_SIZE => {
            Some((-1, i64::from(i32::MAX), "-1 (no limit) or a size in KB"))
        }
        _ => None,
    };
    if let (Some((lo, hi, why)), Some(n)) = (range, number) {
        if n < lo || n > hi {
            return Err(invalid(why));
        }
    }
    if tag == pv::MAX_CALENDAR_AGE_FILTER && !matches!(number, Some(0 | 4..=7)) {
        return Err(invalid("0, 4, 5, 6 or 7"));
    }
    if tag == pv::MAX_EMAIL_AGE_FILTER && !matches!(number, Some(0..=5)) {
        return Err(invalid("0 to 5"));
    }
    T::from_text(&text)
        .map(Some)
        .ok_or_else(|| invalid("not a valid value for this setting"))
}

fn read_setting<T: SettingValue>(doc: &Element, tag: Tag) -> Result<Option<T>, ParseError> {
    let Some(e) = doc.child(tag) else {
        return Ok(None);
    };
    let text = e.text().unwrap_or_default();
    if text.trim().is_empty() {
        return Ok(None);
    }
    T::from_text(&text)
        .map(Some)
        .ok_or_else(|| crate::element::invalid_value(tag, &text, "not a valid policy value"))
}

fn read_list(doc: &Element, list: Tag, item: Tag) -> Option<Vec<String>> {
    doc.child(list).map(|l| {
        l.children_with(item)
            .map(|i| i.text().unwrap_or_default())
            .collect()
    })
}

fn write_list(doc: &mut Element, list: Tag, item: Tag, values: &Option<Vec<String>>) {
    if let Some(values) = values {
        let mut l = Element::new(list);
        for v in values {
            l.push_text(item, v);
        }
        doc.push(l);
    }
}

/// The Policy of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyResponse {
    pub policy_type: String,
    pub status: PolicyStatus,
    /// The temporary key (initial response) or the final key (acknowledgment response).
    pub policy_key: u32,
    /// The settings, in the initial response only.
    pub data: Option<EasProvisionDoc>,
}

/// Provision response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionResponse {
    /// settings:DeviceInformation/settings:Status, when the request carried DeviceInformation.
    pub device_information_status: Option<crate::status::SettingsStatus>,
    pub status: ProvisionStatus,
    pub policy: Option<PolicyResponse>,
    /// A remote wipe directive (an empty RemoteWipe element).
    pub remote_wipe: bool,
    /// An account-only remote wipe directive (16.1).
    pub account_only_remote_wipe: bool,
}

impl ProvisionResponse {
    /// A response with only a Status (an error).
    pub fn status(status: ProvisionStatus) -> Self {
        ProvisionResponse {
            device_information_status: None,
            status,
            policy: None,
            remote_wipe: false,
            account_only_remote_wipe: false,
        }
    }

    /// The answer to a request that does not parse: Status 2, protocol error.
    pub fn protocol_error() -> Self {
        Self::status(ProvisionStatus::ProtocolError)
    }

    pub fn to_element(&self) -> Element {
        let mut root = Element::new(pv::PROVISION);
        if let Some(s) = self.device_information_status {
            root.push(Element::new(st::DEVICE_INFORMATION).with_text(st::STATUS, s.to_string()));
        }
        root.push_text(pv::STATUS, self.status.to_string());
        if let Some(p) = &self.policy {
            let mut policy = Element::new(pv::POLICY);
            policy
                .push_text(pv::POLICY_TYPE, &p.policy_type)
                .push_text(pv::STATUS, p.status.to_string())
                .push_text(pv::POLICY_KEY, p.policy_key.to_string());
            if let Some(doc) = &p.data {
                policy.push(Element::new(pv::DATA).with(doc.to_element()));
            }
            root.push(Element::new(pv::POLICIES).with(policy));
        }
        if self.remote_wipe {
            root.push(Element::new(pv::REMOTE_WIPE));
        }
        if self.account_only_remote_wipe {
            root.push(Element::new(pv::ACCOUNT_ONLY_REMOTE_WIPE));
        }
        root
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::SettingsStatus;

    fn policies(policy: Element) -> Element {
        Element::new(pv::POLICIES).with(policy)
    }

    #[test]
    fn parses_initial_request() {
        // An initial request with the 14.1 DeviceInformation.
        let info = DeviceInformation {
            model: Some("Lumia 950".into()),
            enable_outbound_sms: Some(false),
            ..Default::default()
        };
        let req = Element::new(pv::PROVISION)
            .with(info.to_element())
            .with(policies(
                Element::new(pv::POLICY).with_text(pv::POLICY_TYPE, POLICY_TYPE_WBXML),
            ));
        assert_eq!(
            ProvisionRequest::parse(&req).unwrap(),
            ProvisionRequest {
                device_information: Some(info),
                policy: Some(PolicyRequest {
                    policy_type: POLICY_TYPE_WBXML.into(),
                    ack: None,
                }),
                remote_wipe: None,
                account_only_remote_wipe: None,
            }
        );
    }

    #[test]
    fn parses_acknowledgment() {
        let req = Element::new(pv::PROVISION).with(policies(
            Element::new(pv::POLICY)
                .with_text(pv::POLICY_TYPE, POLICY_TYPE_WBXML)
                .with_text(pv::POLICY_KEY, "1307199584")
                .with_text(pv::STATUS, "1"),
        ));
        assert_eq!(
            ProvisionRequest::parse(&req).unwrap().policy.unwrap().ack,
            Some(PolicyAck {
                policy_key: 1_307_199_584,
                status: PolicyAckStatus::Success
            })
        );
    }

    #[test]
    fn parses_wipe_acknowledgments() {
        let req = Element::new(pv::PROVISION)
            .with(Element::new(pv::REMOTE_WIPE).with_text(pv::STATUS, "1"))
            .with(Element::new(pv::ACCOUNT_ONLY_REMOTE_WIPE).with_text(pv::STATUS, "2"));
        let parsed = ProvisionRequest::parse(&req).unwrap();
        assert_eq!(parsed.remote_wipe, Some(RemoteWipeAckStatus::Success));
        assert_eq!(
            parsed.account_only_remote_wipe,
            Some(RemoteWipeAckStatus::Failure)
        );
        assert_eq!(parsed.policy, None);
    }

    #[test]
    fn rejects_bad_requests() {
        let half_ack = Element::new(pv::PROVISION).with(policies(
            Element::new(pv::POLICY)
                .with_text(pv::POLICY_TYPE, POLICY_TYPE_WBXML)
                .with_text(pv::POLICY_KEY, "5"),
        ));
        assert_eq!(
            ProvisionRequest::parse(&half_ack),
            Err(ParseError::MissingElement {
                parent: pv::POLICY,
                element: pv::STATUS
            })
        );
        let no_type = Element::new(pv::PROVISION).with(policies(Element::new(pv::POLICY)));
        assert!(ProvisionRequest::parse(&no_type).is_err());
        let no_policy = Element::new(pv::PROVISION).with(Element::new(pv::POLICIES));
        assert!(ProvisionRequest::parse(&no_policy).is_err());
        let bad_key = Element::new(pv::PROVISION).with(policies(
            Element::new(pv::POLICY)
                .with_text(pv::POLICY_TYPE, POLICY_TYPE_WBXML)
                .with_text(pv::POLICY_KEY, "key")
                .with_text(pv::STATUS, "1"),
        ));
        assert!(ProvisionRequest::parse(&bad_key).is_err());
        let bad_wipe = Element::new(pv::PROVISION).with(Element::new(pv::REMOTE_WIPE));
        assert!(ProvisionRequest::parse(&bad_wipe).is_err());
    }

    fn sample_doc() -> EasProvisionDoc {
        EasProvisionDoc {
            device_password_enabled: Some(true),
            alphanumeric_device_password_required: Some(true),
            min_device_password_length: Some(6),
            max_inactivity_time_device_lock: Some(900),
            max_attachment_size: Some(10_485_760),
            allow_bluetooth: Some(AllowBluetooth::Allow),
            max_calendar_age_filter: Some(FilterType::OneMonth),
            max_email_age_filter: Some(FilterType::TwoWeeks),
            max_email_body_truncation_size: Some(-1),
            require_encryption_smime_algorithm: Some(EncryptionSmimeAlgorithm::TripleDes),
            allow_smime_encryption_algorithm_negotiation: Some(SmimeAlgorithmNegotiation::Any),
            unapproved_in_rom_application_list: Some(vec!["Solitaire".into()]),
            approved_application_list: Some(
                vec!["8FA3E9D0C41B7725E32A6C3A4E7F0A9B1C2D3E4F".into()],
            ),
            ..Default::default()
        }
    }

    #[test]
    fn writes_initial_response() {
        let resp = ProvisionResponse {
            device_information_status: Some(SettingsStatus::Success),
            policy: Some(PolicyResponse {
                policy_type: POLICY_TYPE_WBXML.into(),
                status: PolicyStatus::Success,
                policy_key: 1_307_199_584,
                data: Some(sample_doc()),
            }),
            ..ProvisionResponse::status(ProvisionStatus::Success)
        };
        let el = resp.to_element();
        let names: Vec<_> = el.elements().map(|e| e.tag).collect();
        assert_eq!(names, [st::DEVICE_INFORMATION, pv::STATUS, pv::POLICIES]);
        let policy = el.child(pv::POLICIES).unwrap().child(pv::POLICY).unwrap();
        let order: Vec<_> = policy.elements().map(|e| e.tag).collect();
        assert_eq!(
            order,
            [pv::POLICY_TYPE, pv::STATUS, pv::POLICY_KEY, pv::DATA]
        );
        assert_eq!(
            policy.child_text(pv::POLICY_KEY).as_deref(),
            Some("1307199584")
        );
        let doc = policy
            .child(pv::DATA)
            .and_then(|d| d.child(pv::EAS_PROVISION_DOC))
            .unwrap();
        assert_eq!(
            doc.child_text(pv::DEVICE_PASSWORD_ENABLED).as_deref(),
            Some("1")
        );
        assert_eq!(doc.child_text(pv::ALLOW_BLUETOOTH).as_deref(), Some("2"));
        assert_eq!(
            doc.child_text(pv::MAX_EMAIL_BODY_TRUNCATION_SIZE)
                .as_deref(),
            Some("-1")
        );
        assert!(doc.child(pv::ALLOW_CAMERA).is_none());
        // Settings come in the spec's order, the lists last.
        let order: Vec<_> = doc.elements().map(|e| e.tag.token).collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted);
    }

    #[test]
    fn settings_by_name_with_spec_defaults_and_ranges() {
        let mut doc = EasProvisionDoc::spec_defaults();
        let all = doc.settings();
        assert_eq!(all.len(), 42);
        assert_eq!(all[0], ("DevicePasswordEnabled", Some("0".to_owned())));
        assert!(all.contains(&("MaxAttachmentSize", None)));
        doc.set("DevicePasswordEnabled", "true").unwrap();
        doc.set("min_device_password_length", "6").unwrap();
        doc.set("MAXATTACHMENTSIZE", "1048576").unwrap();
        doc.set("AllowBluetooth", "1").unwrap();
        doc.set("ApprovedApplicationList", "AB12, CD34").unwrap();
        assert_eq!(doc.device_password_enabled, Some(true));
        assert_eq!(doc.min_device_password_length, Some(6));
        assert_eq!(doc.max_attachment_size, Some(1_048_576));
        assert_eq!(doc.allow_bluetooth, Some(AllowBluetooth::HandsfreeOnly));
        assert_eq!(
            doc.approved_application_list,
            Some(vec!["AB12".to_owned(), "CD34".to_owned()])
        );
        doc.set("MaxAttachmentSize", "").unwrap();
        assert_eq!(doc.max_attachment_size, None);
        for (name, value) in [
            ("MinDevicePasswordLength", "17"),
            ("MaxDevicePasswordFailedAttempts", "3"),
            ("MinDevicePasswordComplexCharacters", "5"),
            ("MaxCalendarAgeFilter", "3"),
            ("MaxEmailAgeFilter", "6"),
            ("MaxEmailBodyTruncationSize", "-2"),
            ("AllowCamera", "maybe"),
            ("AllowBluetooth", "3"),
        ] {
            assert!(
                matches!(
                    doc.set(name, value),
                    Err(PolicySettingError::Invalid { .. })
                ),
                "{name}={value}"
            );
        }
        assert_eq!(
            doc.set("AllowTeleport", "1"),
            Err(PolicySettingError::Unknown("AllowTeleport".into()))
        );
        // Every setting round-trips through its element.
        let parsed = EasProvisionDoc::parse(&doc.to_element()).unwrap();
        assert_eq!(parsed, doc);
    }

    #[test]
    fn provision_doc_round_trips() {
        let doc = sample_doc();
        assert_eq!(EasProvisionDoc::parse(&doc.to_element()).unwrap(), doc);
        let empty = EasProvisionDoc::default();
        assert_eq!(empty.to_element(), Element::new(pv::EAS_PROVISION_DOC));
        let unset = Element::new(pv::EAS_PROVISION_DOC).with(Element::new(pv::ALLOW_CAMERA));
        assert_eq!(EasProvisionDoc::parse(&unset).unwrap(), empty);
        let bad = Element::new(pv::EAS_PROVISION_DOC).with_text(pv::ALLOW_BLUETOOTH, "3");
        assert!(EasProvisionDoc::parse(&bad).is_err());
    }

    #[test]
    fn writes_acknowledgment_and_wipe_responses() {
        let ack = ProvisionResponse {
            policy: Some(PolicyResponse {
                policy_type: POLICY_TYPE_WBXML.into(),
                status: PolicyStatus::Success,
                policy_key: 3_942_919_513,
                data: None,
            }),
            ..ProvisionResponse::status(ProvisionStatus::Success)
        };
        assert_eq!(
            ack.to_element(),
            Element::new(pv::PROVISION)
                .with_text(pv::STATUS, "1")
                .with(policies(
                    Element::new(pv::POLICY)
                        .with_text(pv::POLICY_TYPE, POLICY_TYPE_WBXML)
                        .with_text(pv::STATUS, "1")
                        .with_text(pv::POLICY_KEY, "3942919513")
                ))
        );
        let wipe = ProvisionResponse {
            remote_wipe: true,
            ..ProvisionResponse::status(ProvisionStatus::Success)
        };
        assert_eq!(
            wipe.to_element(),
            Element::new(pv::PROVISION)
                .with_text(pv::STATUS, "1")
                .with(Element::new(pv::REMOTE_WIPE))
        );
        let account_wipe = ProvisionResponse {
            account_only_remote_wipe: true,
            ..ProvisionResponse::status(ProvisionStatus::Success)
        };
        assert!(account_wipe
            .to_element()
            .child(pv::ACCOUNT_ONLY_REMOTE_WIPE)
            .is_some());
    }
}
