//! Settings (MS-ASCMD 2.2.1.18): Out of Office, the user's addresses, rights management
//! templates. (DeviceInformation is `devices::set_device_information`.)
//!
//! The Out of Office settings are kept per account as JSON ([`StoredOof`]) through
//! `Store::oof`/`Store::set_oof`; whoever sends automatic replies reads them with
//! [`Engine::oof`].

use crate::recipients::parse_eas_datetime;
use crate::{Engine, EngineError};
use easd_protocol::commands::settings::{
    Account, EmailAddresses, OofAudience, OofBodyType, OofMessage, OofSettings, OofState,
    RightsManagementTemplate, UserInformation,
};
use easd_protocol::status::SettingsStatus;
use easd_protocol::ProtocolVersion;
use easd_store::AccountId;
use serde::{Deserialize, Serialize};

/// The Out of Office settings as stored (JSON), merged from every Oof Set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredOof {
    /// OofState (MS-ASCMD 2.2.3.124): 0 disabled, 1 global, 2 time based.
    #[serde(default)]
    pub state: u8,
    /// StartTime and EndTime as the client sent them (MS-ASDTYPE dateTime).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// AppliesToInternal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal: Option<StoredOofMessage>,
    /// AppliesToExternalKnown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_known: Option<StoredOofMessage>,
    /// AppliesToExternalUnknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_unknown: Option<StoredOofMessage>,
}

/// One OofMessage as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredOofMessage {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_message: Option<String>,
    /// "Text" or "HTML" (MS-ASCMD BodyType (Settings)): the format of `reply_message`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_type: Option<String>,
}

const AUDIENCES: [OofAudience; 3] = [
    OofAudience::Internal,
    OofAudience::ExternalKnown,
    OofAudience::ExternalUnknown,
];

impl StoredOof {
    fn message(&self, audience: OofAudience) -> Option<&StoredOofMessage> {
        match audience {
            OofAudience::Internal => self.internal.as_ref(),
            OofAudience::ExternalKnown => self.external_known.as_ref(),
            OofAudience::ExternalUnknown => self.external_unknown.as_ref(),
        }
    }

    fn message_mut(&mut self, audience: OofAudience) -> &mut Option<StoredOofMessage> {
        match audience {
            OofAudience::Internal => &mut self.internal,
            OofAudience::ExternalKnown => &mut self.external_known,
            OofAudience::ExternalUnknown => &mut self.external_unknown,
        }
    }

    /// Applies an Oof Set: what it carries replaces what was stored, what it leaves out
    /// stays (a Set of OofState 0 alone turns the replies off and keeps the messages).
    pub fn apply(&mut self, set: &OofSettings) {
        if let Some(state) = set.state {
            self.state = state.code();
        }
        if set.start_time.is_some() {
            self.start_time.clone_from(&set.start_time);
        }
        if set.end_time.is_some() {
            self.end_time.clone_from(&set.end_time);
        }
        for m in &set.messages {
            let slot = self
                .message_mut(m.audience)
                .get_or_insert_with(StoredOofMessage::default);
            if let Some(enabled) = m.enabled {
                slot.enabled = enabled;
            }
            if m.reply_message.is_some() {
                slot.reply_message.clone_from(&m.reply_message);
                // A message without BodyType is text.
                slot.body_type = Some(m.body_type.unwrap_or(OofBodyType::Text).as_str().to_owned());
            } else if let Some(body_type) = m.body_type {
                slot.body_type = Some(body_type.as_str().to_owned());
            }
        }
    }

    /// Status 5 (InvalidArguments) for settings that can't work: time based without a
    /// valid window (MS-ASCMD 2.2.3.124 OofState 2 needs StartTime and EndTime).
    pub fn validate(&self) -> Result<(), SettingsStatus> {
        let times = [&self.start_time, &self.end_time];
        let mut parsed = times.iter().filter_map(|t| t.as_deref());
        let bad_time = times.iter().any(|t| {
            t.as_deref()
                .is_some_and(|t| parse_eas_datetime(t).is_none())
        });
        if bad_time {
            return Err(SettingsStatus::InvalidArguments);
        }
        if self.state == OofState::TimeBased.code() {
            let (Some(start), Some(end)) = (parsed.next(), parsed.next()) else {
                return Err(SettingsStatus::InvalidArguments);
            };
            if parse_eas_datetime(end) <= parse_eas_datetime(start) {
                return Err(SettingsStatus::InvalidArguments);
            }
        }
        Ok(())
    }

    /// The settings as Oof Get returns them, with every message in `body_type`
    /// (MS-ASCMD BodyType (Settings) of the Get request). Each audience is listed; one
    /// never set is disabled.
    pub fn to_get(&self, body_type: OofBodyType) -> OofSettings {
        OofSettings {
            state: Some(OofState::from_code(self.state).unwrap_or(OofState::Disabled)),
            start_time: self.start_time.clone(),
            end_time: self.end_time.clone(),
            messages: AUDIENCES
                .iter()
                .map(|&audience| match self.message(audience) {
                    None => OofMessage {
                        audience,
                        enabled: Some(false),
                        reply_message: None,
                        body_type: None,
                    },
                    Some(m) => OofMessage {
                        audience,
                        enabled: Some(m.enabled),
                        reply_message: m
                            .reply_message
                            .as_deref()
                            .map(|text| convert_body(text, m.body_type.as_deref(), body_type)),
                        body_type: m.reply_message.as_ref().map(|_| body_type),
                    },
                })
                .collect(),
        }
    }
}

/// A reply message stored as `stored` ("Text" or "HTML") in the format the client asked for.
fn convert_body(text: &str, stored: Option<&str>, wanted: OofBodyType) -> String {
    let stored_html = stored.is_some_and(|s| s.eq_ignore_ascii_case("HTML"));
    match (stored_html, wanted) {
        (true, OofBodyType::Text) => html2text::from_read(text.as_bytes(), 1000)
            .map(|t| t.trim_end().to_owned())
            .unwrap_or_else(|_| text.to_owned()),
        (false, OofBodyType::Html) => {
            let mut html = String::from("<html><body>");
            for (i, line) in text.lines().enumerate() {
                if i > 0 {
                    html.push_str("<br>");
                }
                for c in line.chars() {
                    match c {
                        '&' => html.push_str("&amp;"),
                        '<' => html.push_str("&lt;"),
                        '>' => html.push_str("&gt;"),
                        '"' => html.push_str("&quot;"),
                        c => html.push(c),
                    }
                }
            }
            html.push_str("</body></html>");
            html
        }
        _ => text.to_owned(),
    }
}

impl Engine {
    /// The account's Out of Office settings (defaults when never set).
    pub async fn oof(&self, account: AccountId) -> Result<StoredOof, EngineError> {
        self.blocking(move |store| {
            Ok(store
                .oof(account)?
                .and_then(|json| serde_json::from_str(&json).ok())
                .unwrap_or_default())
        })
        .await
    }

    /// Oof Set (MS-ASCMD 2.2.1.18): merges `set` into the stored settings. The Status of
    /// the Oof part: 1, or 5 for settings that can't work.
    pub async fn set_oof(
        &self,
        account: AccountId,
        set: OofSettings,
    ) -> Result<SettingsStatus, EngineError> {
        self.blocking(move |store| {
            let mut oof: StoredOof = store
                .oof(account)?
                .and_then(|json| serde_json::from_str(&json).ok())
                .unwrap_or_default();
            oof.apply(&set);
            if let Err(status) = oof.validate() {
                return Ok(status);
            }
            let json = serde_json::to_string(&oof).map_err(|e| EngineError::Task(e.to_string()))?;
            store.set_oof(account, Some(&json))?;
            tracing::info!(account = account.0, state = oof.state, "Out of Office set");
            Ok(SettingsStatus::Success)
        })
        .await
    }

    /// UserInformation Get (MS-ASCMD 2.2.1.18): the user's addresses. 12.1 and 14.0 get
    /// Get/EmailAddresses/SMTPAddress; 14.1 and later get Get/Accounts/Account with
    /// UserDisplayName and PrimarySmtpAddress (MS-ASCMD 2.2.3.57, 2.2.3.138). The primary
    /// account carries no AccountId (MS-ASCMD AccountId).
    pub async fn user_information(
        &self,
        account: AccountId,
        version: ProtocolVersion,
    ) -> Result<UserInformation, EngineError> {
        let account = self
            .blocking(move |store| {
                store
                    .account(account)?
                    .ok_or_else(|| EngineError::NotFound(format!("account {account}")))
            })
            .await?;
        let mut smtp_addresses = vec![account.email.clone()];
        smtp_addresses.extend(
            account
                .aliases
                .iter()
                .filter(|a| **a != account.email)
                .cloned(),
        );
        if version < ProtocolVersion::V14_1 {
            return Ok(UserInformation::EmailAddresses(EmailAddresses {
                smtp_addresses,
                primary_smtp_address: None,
            }));
        }
        let display_name = if account.display_name.trim().is_empty() {
            account.email.clone()
        } else {
            account.display_name.clone()
        };
        Ok(UserInformation::Accounts(vec![Account {
            account_id: None,
            account_name: None,
            user_display_name: Some(display_name),
            send_disabled: None,
            email_addresses: EmailAddresses {
                smtp_addresses,
                primary_smtp_address: Some(account.email),
            },
        }]))
    }

    /// RightsManagementInformation Get (MS-ASCMD 2.2.1.18, MS-ASRM): the templates the user
    /// may apply. easd has no rights management server, so there are none.
    pub fn rights_management_templates(&self) -> Vec<RightsManagementTemplate> {
        Vec::new()
    }
}

/// Settings DeviceInformation (MS-ASCMD 2.2.3.43) as the engine records it, from Settings
/// or Provision. EnableOutboundSMS is not kept (easd sends no SMS).
pub fn device_information(
    info: &easd_protocol::commands::settings::DeviceInformation,
) -> crate::devices::DeviceInformation {
    crate::devices::DeviceInformation {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn message(audience: OofAudience, text: &str, body_type: OofBodyType) -> OofMessage {
        OofMessage {
            audience,
            enabled: Some(true),
            reply_message: Some(text.into()),
            body_type: Some(body_type),
        }
    }

    #[test]
    fn set_then_get_returns_what_was_set() {
        let mut oof = StoredOof::default();
        oof.apply(&OofSettings {
            state: Some(OofState::TimeBased),
            start_time: Some("2030-06-01T00:00:00.000Z".into()),
            end_time: Some("2030-06-15T00:00:00.000Z".into()),
            messages: vec![message(
                OofAudience::Internal,
                "Away until June 15.",
                OofBodyType::Text,
            )],
        });
        assert_eq!(oof.validate(), Ok(()));
        let json = serde_json::to_string(&oof).unwrap();
        let back: StoredOof = serde_json::from_str(&json).unwrap();
        let get = back.to_get(OofBodyType::Text);
        assert_eq!(get.state, Some(OofState::TimeBased));
        assert_eq!(get.start_time.as_deref(), Some("2030-06-01T00:00:00.000Z"));
        assert_eq!(get.messages.len(), 3);
        assert_eq!(
            get.messages[0].reply_message.as_deref(),
            Some("Away until June 15.")
        );
        assert_eq!(get.messages[0].body_type, Some(OofBodyType::Text));
        assert_eq!(get.messages[1].enabled, Some(false));
        assert_eq!(get.messages[1].reply_message, None);
    }

    #[test]
    fn disabling_keeps_the_messages() {
        let mut oof = StoredOof::default();
        oof.apply(&OofSettings {
            state: Some(OofState::Global),
            messages: vec![message(
                OofAudience::ExternalKnown,
                "Out",
                OofBodyType::Text,
            )],
            ..Default::default()
        });
        oof.apply(&OofSettings {
            state: Some(OofState::Disabled),
            ..Default::default()
        });
        assert_eq!(oof.state, 0);
        assert_eq!(
            oof.external_known
                .as_ref()
                .unwrap()
                .reply_message
                .as_deref(),
            Some("Out")
        );
    }

    #[test]
    fn converts_body_types() {
        let mut oof = StoredOof::default();
        oof.apply(&OofSettings {
            state: Some(OofState::Global),
            messages: vec![
                message(
                    OofAudience::Internal,
                    "<p>Away &amp; <b>offline</b></p>",
                    OofBodyType::Html,
                ),
                message(
                    OofAudience::ExternalUnknown,
                    "a < b\nline 2",
                    OofBodyType::Text,
                ),
            ],
            ..Default::default()
        });
        let text = oof.to_get(OofBodyType::Text);
        let internal = text.messages[0].reply_message.as_deref().unwrap();
        assert!(internal.contains("Away & "), "{internal}");
        assert!(!internal.contains('<'));
        let html = oof.to_get(OofBodyType::Html);
        assert_eq!(
            html.messages[2].reply_message.as_deref(),
            Some("<html><body>a &lt; b<br>line 2</body></html>")
        );
        assert_eq!(html.messages[2].body_type, Some(OofBodyType::Html));
        // HTML asked, HTML stored: unchanged.
        assert_eq!(
            html.messages[0].reply_message.as_deref(),
            Some("<p>Away &amp; <b>offline</b></p>")
        );
    }

    #[test]
    fn time_based_needs_a_window() {
        let mut oof = StoredOof {
            state: OofState::TimeBased.code(),
            ..Default::default()
        };
        assert_eq!(oof.validate(), Err(SettingsStatus::InvalidArguments));
        oof.start_time = Some("2030-06-15T00:00:00.000Z".into());
        oof.end_time = Some("2030-06-01T00:00:00.000Z".into());
        assert_eq!(oof.validate(), Err(SettingsStatus::InvalidArguments));
        oof.end_time = Some("tomorrow".into());
        assert_eq!(oof.validate(), Err(SettingsStatus::InvalidArguments));
        oof.end_time = Some("2030-07-01T00:00:00.000Z".into());
        assert_eq!(oof.validate(), Ok(()));
    }
}
