//! The Email class (MS-ASEMAIL, Email and Email2 namespaces): a message as the server sends
//! it in Sync, Search and ItemOperations; the changes a client may make to a message (read,
//! flag, categories); and a 16.x client's draft.
//!
//! Dates are MS-ASDTYPE dateTime strings ("2026-11-25T16:22:49.000Z"), formatted by the
//! caller.

use crate::element::{invalid_value, parse_value, ElementExt};
use crate::error::ParseError;
use crate::items::airsyncbase::{
    attachments_element, is_empty_element, native_body_type_element, parse_attachments, Attachment,
    AttachmentChanges, Body, BodyPart, BodyType,
};
use crate::version::ProtocolVersion;
use easd_wbxml::tags::{airsync, airsyncbase, email, email2, rights_management, tasks};
use easd_wbxml::{Element, Tag};

/// Importance (MS-ASEMAIL Importance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Importance {
    /// 0
    Low,
    /// 1
    Normal,
    /// 2
    High,
}

impl Importance {
    pub const fn code(self) -> u8 {
        match self {
            Importance::Low => 0,
            Importance::Normal => 1,
            Importance::High => 2,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Importance::Low),
            1 => Some(Importance::Normal),
            2 => Some(Importance::High),
            _ => None,
        }
    }

    fn optional_child(parent: &Element, tag: Tag) -> Result<Option<Self>, ParseError> {
        parse_code(
            parent,
            tag,
            Importance::from_code,
            "expected importance 0, 1 or 2",
        )
    }
}

/// The status of a flag (MS-ASEMAIL Flag/Status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlagStatus {
    /// 0: the flag is cleared.
    Cleared,
    /// 1: the flagged task is complete.
    Complete,
    /// 2: the message is flagged (active).
    Active,
}

impl FlagStatus {
    pub const fn code(self) -> u8 {
        match self {
            FlagStatus::Cleared => 0,
            FlagStatus::Complete => 1,
            FlagStatus::Active => 2,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(FlagStatus::Cleared),
            1 => Some(FlagStatus::Complete),
            2 => Some(FlagStatus::Active),
            _ => None,
        }
    }
}

/// The last action taken on a message (MS-ASEMAIL email2:LastVerbExecuted, 14.0+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LastVerbExecuted {
    /// 0
    Unknown,
    /// 1
    ReplyToSender,
    /// 2
    ReplyToAll,
    /// 3
    Forward,
}

impl LastVerbExecuted {
    pub const fn code(self) -> u8 {
        match self {
            LastVerbExecuted::Unknown => 0,
            LastVerbExecuted::ReplyToSender => 1,
            LastVerbExecuted::ReplyToAll => 2,
            LastVerbExecuted::Forward => 3,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(LastVerbExecuted::Unknown),
            1 => Some(LastVerbExecuted::ReplyToSender),
            2 => Some(LastVerbExecuted::ReplyToAll),
            3 => Some(LastVerbExecuted::Forward),
            _ => None,
        }
    }
}

/// A follow-up flag (MS-ASEMAIL 2.2.2.34 Flag). Its dates are Tasks-namespace elements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flag {
    pub status: Option<FlagStatus>,
    /// FlagType: commonly "Flag for follow up" or "for Follow Up".
    pub flag_type: Option<String>,
    /// CompleteTime: when the flag was completed (Status 1).
    pub complete_time: Option<String>,
    /// tasks:DateCompleted (Status 1).
    pub date_completed: Option<String>,
    /// tasks:StartDate (local time written as UTC, as MS-ASTASK does).
    pub start_date: Option<String>,
    pub utc_start_date: Option<String>,
    /// tasks:DueDate (local time written as UTC).
    pub due_date: Option<String>,
    pub utc_due_date: Option<String>,
    pub reminder_set: Option<bool>,
    pub reminder_time: Option<String>,
    /// tasks:Subject.
    pub subject: Option<String>,
    pub ordinal_date: Option<String>,
    pub sub_ordinal_date: Option<String>,
}

impl Flag {
    /// An active flag of the usual type.
    pub fn active() -> Self {
        Flag {
            status: Some(FlagStatus::Active),
            flag_type: Some("for Follow Up".into()),
            ..Flag::default()
        }
    }

    /// Parses a Flag element. An empty element parses as `Flag::default()` (see
    /// [`Flag::is_cleared`]).
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        Ok(Flag {
            status: parse_code(
                e,
                email::STATUS,
                FlagStatus::from_code,
                "expected flag status 0, 1 or 2",
            )?,
            flag_type: e.optional_text(email::FLAG_TYPE),
            complete_time: e.optional_text(email::COMPLETE_TIME),
            date_completed: e.optional_text(tasks::DATE_COMPLETED),
            start_date: e.optional_text(tasks::START_DATE),
            utc_start_date: e.optional_text(tasks::UTC_START_DATE),
            due_date: e.optional_text(tasks::DUE_DATE),
            utc_due_date: e.optional_text(tasks::UTC_DUE_DATE),
            reminder_set: e.optional_bool(tasks::REMINDER_SET)?,
            reminder_time: e.optional_text(tasks::REMINDER_TIME),
            subject: e.optional_text(tasks::SUBJECT),
            ordinal_date: e.optional_text(tasks::ORDINAL_DATE),
            sub_ordinal_date: e.optional_text(tasks::SUB_ORDINAL_DATE),
        })
    }

    /// True when the flag carries nothing or Status 0: the message is not flagged.
    pub fn is_cleared(&self) -> bool {
        match self.status {
            Some(FlagStatus::Cleared) => true,
            Some(_) => false,
            None => *self == Flag::default(),
        }
    }

    pub fn to_element(&self) -> Element {
        let mut e = Element::new(email::FLAG);
        e.push_opt(email::STATUS, self.status.map(FlagStatus::code))
            .push_opt(email::FLAG_TYPE, self.flag_type.as_deref())
            .push_opt(email::COMPLETE_TIME, self.complete_time.as_deref())
            .push_opt(tasks::START_DATE, self.start_date.as_deref())
            .push_opt(tasks::UTC_START_DATE, self.utc_start_date.as_deref())
            .push_opt(tasks::DUE_DATE, self.due_date.as_deref())
            .push_opt(tasks::UTC_DUE_DATE, self.utc_due_date.as_deref())
            .push_opt(tasks::DATE_COMPLETED, self.date_completed.as_deref())
            .push_opt_bool(tasks::REMINDER_SET, self.reminder_set)
            .push_opt(tasks::REMINDER_TIME, self.reminder_time.as_deref())
            .push_opt(tasks::SUBJECT, self.subject.as_deref())
            .push_opt(tasks::ORDINAL_DATE, self.ordinal_date.as_deref())
            .push_opt(tasks::SUB_ORDINAL_DATE, self.sub_ordinal_date.as_deref());
        e
    }
}

/// An email message as the server sends it (MS-ASEMAIL 2.2.2): the properties of an Add or
/// Fetch in Sync, of a Search or ItemOperations result.
///
/// Which properties are written depends on the protocol version (see
/// [`Email::to_application_data`]); `None` and empty lists are not written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Email {
    pub to: Option<String>,
    pub cc: Option<String>,
    pub from: Option<String>,
    pub subject: Option<String>,
    pub reply_to: Option<String>,
    /// DateReceived (2.2.2.24), MS-ASDTYPE dateTime.
    pub date_received: Option<String>,
    pub display_to: Option<String>,
    pub thread_topic: Option<String>,
    pub importance: Option<Importance>,
    pub read: Option<bool>,
    /// airsyncbase:Attachments.
    pub attachments: Vec<Attachment>,
    /// airsyncbase:Body; its Preview is written for 14.0+ only.
    pub body: Option<Body>,
    /// airsyncbase:BodyPart (14.1+), when the client asked with BodyPartPreference.
    pub body_part: Option<BodyPart>,
    pub message_class: Option<String>,
    /// MeetingRequest (2.2.2.48), built by the calendar layer and written as given.
    pub meeting_request: Option<Element>,
    /// InternetCPID: the code page of the original message, e.g. "65001".
    pub internet_cpid: Option<String>,
    /// Flag (12.0+): `None` is written as an empty `<Flag/>` (not flagged), as Exchange does.
    pub flag: Option<Flag>,
    pub content_class: Option<String>,
    /// airsyncbase:NativeBodyType.
    pub native_body_type: Option<BodyType>,
    /// Categories (2.2.2.16, 14.0+).
    pub categories: Vec<String>,
    /// email2:UmCallerID (14.0+, voice mail).
    pub um_caller_id: Option<String>,
    /// email2:UmUserNotes (14.0+, voice mail).
    pub um_user_notes: Option<String>,
    /// email2:ConversationId (2.2.2.21, 14.0+), OPAQUE.
    pub conversation_id: Option<Vec<u8>>,
    /// email2:ConversationIndex (14.0+), OPAQUE.
    pub conversation_index: Option<Vec<u8>>,
    /// email2:LastVerbExecuted (14.0+).
    pub last_verb_executed: Option<LastVerbExecuted>,
    /// email2:LastVerbExecutionTime (14.0+), MS-ASDTYPE dateTime.
    pub last_verb_execution_time: Option<String>,
    /// email2:ReceivedAsBcc (14.0+).
    pub received_as_bcc: Option<bool>,
    /// email2:Sender (14.0+): who sent on behalf of From.
    pub sender: Option<String>,
    /// email2:AccountId (14.1+).
    pub account_id: Option<String>,
    /// email2:IsDraft (2.2.2.42, 16.0+).
    pub is_draft: Option<bool>,
    /// email2:Bcc (16.0+, drafts).
    pub bcc: Option<String>,
    /// rm:RightsManagementLicense (14.1+), built by the rights management layer.
    pub rights_management_license: Option<Element>,
}

impl Email {
    /// The message as Sync ApplicationData for `version` (MS-ASEMAIL 2.2.2 per-element
    /// version tables): 12.1 gets the Email namespace and AirSyncBase; 14.0 adds
    /// Categories, body previews and the Email2 conversation and verb properties; 14.1 adds
    /// AccountId, BodyPart and RightsManagementLicense; 16.0 adds IsDraft and Bcc.
    pub fn to_application_data(&self, version: ProtocolVersion) -> Element {
        let mut e = Element::new(airsync::APPLICATION_DATA);
        self.push_properties(version, &mut e);
        e
    }

    /// The same properties under another parent (search:Properties,
    /// itemoperations:Properties).
    pub fn to_element_with_tag(&self, tag: Tag, version: ProtocolVersion) -> Element {
        let mut e = Element::new(tag);
        self.push_properties(version, &mut e);
        e
    }

    /// Appends the message's properties to `e`, in the order Exchange writes them.
    pub fn push_properties(&self, version: ProtocolVersion, e: &mut Element) {
        let v14 = version >= ProtocolVersion::V14_0;
        let v141 = version >= ProtocolVersion::V14_1;
        let v16 = version >= ProtocolVersion::V16_0;

        e.push_opt(email::TO, self.to.as_deref())
            .push_opt(email::CC, self.cc.as_deref())
            .push_opt(email::FROM, self.from.as_deref())
            .push_opt(email::SUBJECT, self.subject.as_deref())
            .push_opt(email::REPLY_TO, self.reply_to.as_deref())
            .push_opt(email::DATE_RECEIVED, self.date_received.as_deref())
            .push_opt(email::DISPLAY_TO, self.display_to.as_deref())
            .push_opt(email::THREAD_TOPIC, self.thread_topic.as_deref())
            .push_opt(email::IMPORTANCE, self.importance.map(Importance::code))
            .push_opt_bool(email::READ, self.read);
        if !self.attachments.is_empty() {
            e.push(attachments_element(&self.attachments));
        }
        if let Some(body) = &self.body {
            if !v14 && body.preview.is_some() {
                let mut b = body.clone();
                b.preview = None;
                e.push(b.to_element());
            } else {
                e.push(body.to_element());
            }
        }
        if v141 {
            if let Some(p) = &self.body_part {
                e.push(p.to_element());
            }
        }
        e.push_opt(email::MESSAGE_CLASS, self.message_class.as_deref());
        if let Some(m) = &self.meeting_request {
            e.push(m.clone());
        }
        e.push_opt(email::INTERNET_CPID, self.internet_cpid.as_deref());
        e.push(match &self.flag {
            Some(f) => f.to_element(),
            None => Element::new(email::FLAG),
        });
        e.push_opt(email::CONTENT_CLASS, self.content_class.as_deref());
        if let Some(t) = self.native_body_type {
            e.push(native_body_type_element(t));
        }
        if v14 {
            e.push_opt(email2::UM_CALLER_ID, self.um_caller_id.as_deref())
                .push_opt(email2::UM_USER_NOTES, self.um_user_notes.as_deref());
            if let Some(id) = &self.conversation_id {
                e.push(Element::opaque_element(email2::CONVERSATION_ID, id.clone()));
            }
            if let Some(ix) = &self.conversation_index {
                e.push(Element::opaque_element(
                    email2::CONVERSATION_INDEX,
                    ix.clone(),
                ));
            }
            e.push_opt(
                email2::LAST_VERB_EXECUTED,
                self.last_verb_executed.map(LastVerbExecuted::code),
            )
            .push_opt(
                email2::LAST_VERB_EXECUTION_TIME,
                self.last_verb_execution_time.as_deref(),
            )
            .push_opt_bool(email2::RECEIVED_AS_BCC, self.received_as_bcc)
            .push_opt(email2::SENDER, self.sender.as_deref());
        }
        if v141 {
            e.push_opt(email2::ACCOUNT_ID, self.account_id.as_deref());
        }
        if v16 {
            e.push_opt(email2::BCC, self.bcc.as_deref())
                .push_opt_bool(email2::IS_DRAFT, self.is_draft);
        }
        if v14 {
            e.push(categories_element(&self.categories));
        }
        if v141 {
            if let Some(l) = &self.rights_management_license {
                e.push(l.clone());
            }
        }
    }

    /// Reads a message's properties from ApplicationData (or any element holding them).
    /// Unknown elements are ignored; an empty `<Flag/>` gives `flag: None`.
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        let flag = match e.child(email::FLAG) {
            Some(f) if !is_empty_element(f) => Some(Flag::parse(f)?),
            _ => None,
        };
        Ok(Email {
            to: e.optional_text(email::TO),
            cc: e.optional_text(email::CC),
            from: e.optional_text(email::FROM),
            subject: e.optional_text(email::SUBJECT),
            reply_to: e.optional_text(email::REPLY_TO),
            date_received: e.optional_text(email::DATE_RECEIVED),
            display_to: e.optional_text(email::DISPLAY_TO),
            thread_topic: e.optional_text(email::THREAD_TOPIC),
            importance: Importance::optional_child(e, email::IMPORTANCE)?,
            read: e.optional_bool(email::READ)?,
            attachments: match e.child(airsyncbase::ATTACHMENTS) {
                Some(a) => parse_attachments(a)?,
                None => Vec::new(),
            },
            body: e.child(airsyncbase::BODY).map(Body::parse).transpose()?,
            body_part: e
                .child(airsyncbase::BODY_PART)
                .map(BodyPart::parse)
                .transpose()?,
            message_class: e.optional_text(email::MESSAGE_CLASS),
            meeting_request: e.child(email::MEETING_REQUEST).cloned(),
            internet_cpid: e.optional_text(email::INTERNET_CPID),
            flag,
            content_class: e.optional_text(email::CONTENT_CLASS),
            native_body_type: e
                .child(airsyncbase::NATIVE_BODY_TYPE)
                .map(BodyType::parse)
                .transpose()?,
            categories: e
                .child(email::CATEGORIES)
                .map(parse_categories)
                .unwrap_or_default(),
            um_caller_id: e.optional_text(email2::UM_CALLER_ID),
            um_user_notes: e.optional_text(email2::UM_USER_NOTES),
            conversation_id: e.child(email2::CONVERSATION_ID).and_then(Element::bytes),
            conversation_index: e.child(email2::CONVERSATION_INDEX).and_then(Element::bytes),
            last_verb_executed: parse_code(
                e,
                email2::LAST_VERB_EXECUTED,
                LastVerbExecuted::from_code,
                "expected a verb 0-3",
            )?,
            last_verb_execution_time: e.optional_text(email2::LAST_VERB_EXECUTION_TIME),
            received_as_bcc: e.optional_bool(email2::RECEIVED_AS_BCC)?,
            sender: e.optional_text(email2::SENDER),
            account_id: e.optional_text(email2::ACCOUNT_ID),
            is_draft: e.optional_bool(email2::IS_DRAFT)?,
            bcc: e.optional_text(email2::BCC),
            rights_management_license: e
                .child(rights_management::RIGHTS_MANAGEMENT_LICENSE)
                .cloned(),
        })
    }
}

/// The changes to a message a client may send in a Sync Change, and the server sends back
/// when another device changed them (MS-ASEMAIL, Sync command request: Read, Flag and
/// Categories are the only properties of a received message a client may change).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailChange {
    /// `Some` when Read was present.
    pub read: Option<bool>,
    /// `None`: Flag absent, unchanged. `Some(None)`: the flag is cleared (an empty `<Flag/>`,
    /// or Status 0). `Some(Some(f))`: the flag is set to `f`.
    pub flag: Option<Option<Flag>>,
    /// `None`: Categories absent, unchanged. `Some(vec![])`: every category removed
    /// (MS-ASEMAIL 2.2.2.16).
    pub categories: Option<Vec<String>>,
}

impl EmailChange {
    /// Reads the changes from a Change's ApplicationData. Other elements (which a client
    /// must not change on a received message) are ignored here.
    pub fn parse(app_data: &Element) -> Result<Self, ParseError> {
        let flag = match app_data.child(email::FLAG) {
            None => None,
            Some(f) if is_empty_element(f) => Some(None),
            Some(f) => {
                let flag = Flag::parse(f)?;
                Some((!flag.is_cleared()).then_some(flag))
            }
        };
        Ok(EmailChange {
            read: app_data.optional_bool(email::READ)?,
            flag,
            categories: app_data.child(email::CATEGORIES).map(parse_categories),
        })
    }

    /// True when nothing is changed.
    pub fn is_empty(&self) -> bool {
        self.read.is_none() && self.flag.is_none() && self.categories.is_none()
    }

    /// The changes as the ApplicationData of a server Change (Categories for 14.0+ only).
    pub fn to_application_data(&self, version: ProtocolVersion) -> Element {
        let mut e = Element::new(airsync::APPLICATION_DATA);
        e.push_opt_bool(email::READ, self.read);
        match &self.flag {
            None => {}
            Some(None) => {
                e.push(Element::new(email::FLAG));
            }
            Some(Some(f)) => {
                e.push(f.to_element());
            }
        }
        if version >= ProtocolVersion::V14_0 {
            if let Some(c) = &self.categories {
                e.push(categories_element(c));
            }
        }
        e
    }
}

/// A draft as a 16.x client adds or changes it in the Drafts folder (MS-ASEMAIL, Sync
/// command request in 16.0+: To, Cc, Bcc, Subject, Importance, Body and attachment changes). In a Change, an absent
/// property is unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DraftEmail {
    pub to: Option<String>,
    pub cc: Option<String>,
    /// email2:Bcc.
    pub bcc: Option<String>,
    pub subject: Option<String>,
    pub importance: Option<Importance>,
    /// airsyncbase:Body (Type and Data).
    pub body: Option<Body>,
    /// airsyncbase:Attachments with Add and Delete children.
    pub attachments: AttachmentChanges,
    /// email2:Send (2.2.2.69) found inside ApplicationData. The spec puts Send in the Add or
    /// Change element itself (see `ClientCommand::Add::send` in commands::sync); clients
    /// also put it here, so the engine sends when either is set.
    pub send: bool,
}

impl DraftEmail {
    /// Reads a draft from an Add's or Change's ApplicationData.
    pub fn parse(app_data: &Element) -> Result<Self, ParseError> {
        Ok(DraftEmail {
            to: app_data.optional_text(email::TO),
            cc: app_data.optional_text(email::CC),
            bcc: app_data.optional_text(email2::BCC),
            subject: app_data.optional_text(email::SUBJECT),
            importance: Importance::optional_child(app_data, email::IMPORTANCE)?,
            body: app_data
                .child(airsyncbase::BODY)
                .map(Body::parse)
                .transpose()?,
            attachments: app_data
                .child(airsyncbase::ATTACHMENTS)
                .map(AttachmentChanges::parse)
                .transpose()?
                .unwrap_or_default(),
            send: app_data.child(email2::SEND).is_some(),
        })
    }

    pub fn to_application_data(&self) -> Element {
        let mut e = Element::new(airsync::APPLICATION_DATA);
        e.push_opt(email::TO, self.to.as_deref())
            .push_opt(email::CC, self.cc.as_deref())
            .push_opt(email2::BCC, self.bcc.as_deref())
            .push_opt(email::SUBJECT, self.subject.as_deref())
            .push_opt(email::IMPORTANCE, self.importance.map(Importance::code));
        if let Some(b) = &self.body {
            e.push(b.to_element());
        }
        if !self.attachments.is_empty() {
            e.push(self.attachments.to_element());
        }
        if self.send {
            e.push(Element::new(email2::SEND));
        }
        e
    }
}

/// `<email:Categories>` with one Category each (written even when empty: an empty list
/// means "no categories", MS-ASEMAIL 2.2.2.16).
pub fn categories_element(categories: &[String]) -> Element {
    let mut e = Element::new(email::CATEGORIES);
    for c in categories {
        e.push_text(email::CATEGORY, c.clone());
    }
    e
}

fn parse_categories(e: &Element) -> Vec<String> {
    e.children_with(email::CATEGORY)
        .map(|c| c.text().unwrap_or_default())
        .collect()
}

/// An optional child whose text is a small code, mapped by `from_code`.
pub(crate) fn parse_code<T>(
    parent: &Element,
    tag: Tag,
    from_code: fn(u8) -> Option<T>,
    reason: &'static str,
) -> Result<Option<T>, ParseError> {
    let Some(e) = parent.child(tag) else {
        return Ok(None);
    };
    let code: u8 = parse_value(e)?;
    from_code(code)
        .map(Some)
        .ok_or_else(|| invalid_value(tag, &code.to_string(), reason))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::items::airsyncbase::BodyData;

    fn sample() -> Email {
        let mut body = Body::new(BodyType::Plain, "Hi all,\nthe numbers are in.");
        body.preview = Some("Hi all, the numbers are in.".into());
        Email {
            to: Some("\"Device User\" <deviceuser@example.com>".into()),
            from: Some("\"Device User 3\" <deviceuser3@example.com>".into()),
            subject: Some("Quarterly numbers".into()),
            date_received: Some("2009-07-29T19:25:37.817Z".into()),
            display_to: Some("Device User".into()),
            thread_topic: Some("Quarterly numbers".into()),
            importance: Some(Importance::High),
            read: Some(false),
            body: Some(body),
            message_class: Some("IPM.Note".into()),
            internet_cpid: Some("65001".into()),
            content_class: Some("urn:content-classes:message".into()),
            native_body_type: Some(BodyType::Html),
            categories: vec!["Finance".into()],
            conversation_id: Some(vec![0xA1, 0x00, 0xFF]),
            conversation_index: Some(vec![1, 2, 3, 4, 5]),
            last_verb_executed: Some(LastVerbExecuted::ReplyToAll),
            last_verb_execution_time: Some("2009-07-30T08:00:00.000Z".into()),
            received_as_bcc: Some(true),
            sender: Some("assistant@example.com".into()),
            account_id: Some("2".into()),
            is_draft: Some(false),
            ..Email::default()
        }
    }

    fn tags(e: &Element) -> Vec<Tag> {
        e.elements().map(|c| c.tag).collect()
    }

    #[test]
    fn version_16_writes_everything_and_parses_back() {
        let m = sample();
        let e = m.to_application_data(ProtocolVersion::V16_1);
        assert_eq!(e.tag, airsync::APPLICATION_DATA);
        let t = tags(&e);
        for tag in [
            email::TO,
            email::FLAG,
            email::CATEGORIES,
            email2::CONVERSATION_ID,
            email2::ACCOUNT_ID,
            email2::IS_DRAFT,
        ] {
            assert!(t.contains(&tag), "{tag:?}");
        }
        // ConversationId is OPAQUE (MS-ASEMAIL 2.2.2.21).
        assert_eq!(
            e.child(email2::CONVERSATION_ID).unwrap().opaque(),
            Some(&[0xA1, 0x00, 0xFF][..])
        );
        assert_eq!(Email::parse(&e).unwrap(), m);
    }

    #[test]
    fn version_12_1_has_no_email2_categories_or_preview() {
        let e = sample().to_application_data(ProtocolVersion::V12_1);
        let t = tags(&e);
        assert!(t.iter().all(|t| t.page != email2::SENDER.page), "{t:?}");
        assert!(!t.contains(&email::CATEGORIES));
        let body = e.child(airsyncbase::BODY).unwrap();
        assert!(body.child(airsyncbase::PREVIEW).is_none());
        // Flag is 12.0+: an unflagged message gets an empty Flag.
        assert!(e.child(email::FLAG).unwrap().children.is_empty());
    }

    #[test]
    fn version_14_0_has_conversations_but_not_account_or_draft() {
        let e = sample().to_application_data(ProtocolVersion::V14_0);
        let t = tags(&e);
        assert!(t.contains(&email2::CONVERSATION_ID));
        assert!(t.contains(&email::CATEGORIES));
        assert!(!t.contains(&email2::ACCOUNT_ID));
        assert!(!t.contains(&email2::IS_DRAFT));
        assert!(e
            .child(airsyncbase::BODY)
            .unwrap()
            .child(airsyncbase::PREVIEW)
            .is_some());
    }

    #[test]
    fn change_with_read_and_flag() {
        // A client marks a message read and flags it (MS-ASEMAIL 2.2.2.34 Flag).
        let app = Element::new(airsync::APPLICATION_DATA)
            .with_text(email::READ, "1")
            .with(
                Element::new(email::FLAG)
                    .with_text(email::STATUS, "2")
                    .with_text(email::FLAG_TYPE, "Flag for follow up")
                    .with_text(tasks::START_DATE, "2009-08-01T00:00:00.000Z")
                    .with_text(tasks::UTC_START_DATE, "2009-08-01T07:00:00.000Z")
                    .with_text(tasks::DUE_DATE, "2009-08-03T00:00:00.000Z")
                    .with_text(tasks::UTC_DUE_DATE, "2009-08-03T07:00:00.000Z")
                    .with_text(tasks::REMINDER_SET, "1")
                    .with_text(tasks::REMINDER_TIME, "2009-08-03T15:00:00.000Z")
                    .with_text(tasks::SUBJECT, "Quarterly numbers"),
            );
        let c = EmailChange::parse(&app).unwrap();
        assert_eq!(c.read, Some(true));
        let f = c.flag.clone().unwrap().unwrap();
        assert_eq!(f.status, Some(FlagStatus::Active));
        assert_eq!(f.reminder_set, Some(true));
        assert_eq!(f.subject.as_deref(), Some("Quarterly numbers"));
        assert_eq!(c.categories, None);
        let back = EmailChange::parse(&c.to_application_data(ProtocolVersion::V14_1)).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn empty_flag_and_categories_clear() {
        let app = Element::new(airsync::APPLICATION_DATA)
            .with(Element::new(email::FLAG))
            .with(Element::new(email::CATEGORIES));
        let c = EmailChange::parse(&app).unwrap();
        assert_eq!(c.flag, Some(None));
        assert_eq!(c.categories, Some(vec![]));
        assert_eq!(c.read, None);

        let zero = Element::new(airsync::APPLICATION_DATA)
            .with(Element::new(email::FLAG).with_text(email::STATUS, "0"));
        assert_eq!(EmailChange::parse(&zero).unwrap().flag, Some(None));

        let absent = Element::new(airsync::APPLICATION_DATA);
        assert!(EmailChange::parse(&absent).unwrap().is_empty());
    }

    #[test]
    fn change_rejects_bad_values() {
        let bad_read = Element::new(airsync::APPLICATION_DATA).with_text(email::READ, "yes");
        assert!(EmailChange::parse(&bad_read).is_err());
        let bad_status = Element::new(airsync::APPLICATION_DATA)
            .with(Element::new(email::FLAG).with_text(email::STATUS, "9"));
        assert!(EmailChange::parse(&bad_status).is_err());
    }

    #[test]
    fn draft_from_a_16_client() {
        let app = Element::new(airsync::APPLICATION_DATA)
            .with_text(email::TO, "dana@example.com")
            .with_text(email2::BCC, "audit@example.com")
            .with_text(email::SUBJECT, "Draft: plan")
            .with_text(email::IMPORTANCE, "1")
            .with(
                Element::new(airsyncbase::BODY)
                    .with_text(airsyncbase::TYPE, "1")
                    .with_text(airsyncbase::DATA, "Plan attached."),
            )
            .with(
                Element::new(airsyncbase::ATTACHMENTS).with(
                    Element::new(airsyncbase::DELETE)
                        .with_text(airsyncbase::FILE_REFERENCE, "4%3a3%3a0"),
                ),
            )
            .with(Element::new(email2::SEND));
        let d = DraftEmail::parse(&app).unwrap();
        assert_eq!(d.to.as_deref(), Some("dana@example.com"));
        assert_eq!(d.bcc.as_deref(), Some("audit@example.com"));
        assert_eq!(d.importance, Some(Importance::Normal));
        let body = d.body.as_ref().unwrap();
        assert_eq!(body.body_type, BodyType::Plain);
        assert_eq!(body.data, Some(BodyData::Text("Plan attached.".into())));
        assert_eq!(d.attachments.delete, vec!["4%3a3%3a0".to_string()]);
        assert!(d.send);
        assert_eq!(DraftEmail::parse(&d.to_application_data()).unwrap(), d);
    }

    #[test]
    fn flag_round_trip_and_cleared() {
        let mut f = Flag::active();
        f.complete_time = Some("2009-08-02T10:30:00.000Z".into());
        assert_eq!(Flag::parse(&f.to_element()).unwrap(), f);
        assert!(!f.is_cleared());
        assert!(Flag::default().is_cleared());
    }
}
