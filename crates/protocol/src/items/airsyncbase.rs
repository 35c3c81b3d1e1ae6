//! The AirSyncBase elements shared by every class (MS-ASAIRS): body preferences, bodies and
//! body parts, attachments (as the server lists them and as a 16.x client adds or deletes
//! them), the native body type, the 16.x Location, and the Sync `Supported` list that
//! decides which properties are ghosted (MS-ASCMD 2.2.3.179).

use crate::element::{invalid_value, ElementExt};
use crate::error::ParseError;
use easd_wbxml::tags::{airsync, airsyncbase, email2};
use easd_wbxml::{Element, EncodeError, Node, Tag, Writer};
use std::fmt;
use std::io::Write;

/// The format of a body (MS-ASAIRS 2.2.2.41 Type): the values of `Type` in BodyPreference,
/// BodyPartPreference, Body and BodyPart, and of NativeBodyType (2.2.2.32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BodyType {
    /// 1: plain text.
    Plain,
    /// 2: HTML.
    Html,
    /// 3: RTF (compressed RTF, base64 encoded in Data).
    Rtf,
    /// 4: MIME (the whole RFC 5322 message).
    Mime,
}

impl BodyType {
    /// The value written in a Type element.
    pub const fn code(self) -> u8 {
        match self {
            BodyType::Plain => 1,
            BodyType::Html => 2,
            BodyType::Rtf => 3,
            BodyType::Mime => 4,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(BodyType::Plain),
            2 => Some(BodyType::Html),
            3 => Some(BodyType::Rtf),
            4 => Some(BodyType::Mime),
            _ => None,
        }
    }

    /// Parses an element whose text is a body type (Type, NativeBodyType).
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        let text = e.text().unwrap_or_default();
        text.trim()
            .parse::<u8>()
            .ok()
            .and_then(BodyType::from_code)
            .ok_or_else(|| invalid_value(e.tag, &text, "expected a body type 1-4"))
    }

    fn required_child(parent: &Element, tag: Tag) -> Result<Self, ParseError> {
        BodyType::parse(parent.required(tag)?)
    }
}

impl fmt::Display for BodyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

/// A client's preference for one body format (MS-ASAIRS 2.2.2.12 BodyPreference), in Sync,
/// ItemOperations and Search options. A client may send several, one per Type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyPreference {
    pub body_type: BodyType,
    /// TruncationSize: bytes of Data to send at most; absent means no limit.
    pub truncation_size: Option<u32>,
    /// AllOrNone: send the body only if it fits in `truncation_size`.
    pub all_or_none: bool,
    /// Preview (14.0+): characters of plain-text preview wanted (0–255).
    pub preview: Option<u32>,
}

impl BodyPreference {
    pub fn new(body_type: BodyType) -> Self {
        BodyPreference {
            body_type,
            truncation_size: None,
            all_or_none: false,
            preview: None,
        }
    }

    /// Parses a BodyPreference element.
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        parse_preference(e).map(|(body_type, truncation_size, all_or_none, preview)| {
            BodyPreference {
                body_type,
                truncation_size,
                all_or_none,
                preview,
            }
        })
    }

    pub fn to_element(&self) -> Element {
        preference_element(
            airsyncbase::BODY_PREFERENCE,
            self.body_type,
            self.truncation_size,
            self.all_or_none,
            self.preview,
        )
    }
}

/// A client's preference for the body part of a conversation message (MS-ASAIRS 2.2.2.11
/// BodyPartPreference, 14.1+). Only Type 2 (HTML) is defined for body parts; the server
/// answers another type with Status 164 (BodyPartPreferenceTypeNotSupported).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyPartPreference {
    pub body_type: BodyType,
    pub truncation_size: Option<u32>,
    pub all_or_none: bool,
    pub preview: Option<u32>,
}

impl BodyPartPreference {
    pub fn new(body_type: BodyType) -> Self {
        BodyPartPreference {
            body_type,
            truncation_size: None,
            all_or_none: false,
            preview: None,
        }
    }

    /// Parses a BodyPartPreference element.
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        parse_preference(e).map(|(body_type, truncation_size, all_or_none, preview)| {
            BodyPartPreference {
                body_type,
                truncation_size,
                all_or_none,
                preview,
            }
        })
    }

    pub fn to_element(&self) -> Element {
        preference_element(
            airsyncbase::BODY_PART_PREFERENCE,
            self.body_type,
            self.truncation_size,
            self.all_or_none,
            self.preview,
        )
    }
}

type Preference = (BodyType, Option<u32>, bool, Option<u32>);

fn parse_preference(e: &Element) -> Result<Preference, ParseError> {
    Ok((
        BodyType::required_child(e, airsyncbase::TYPE)?,
        e.optional_parse(airsyncbase::TRUNCATION_SIZE)?,
        e.optional_bool(airsyncbase::ALL_OR_NONE)?.unwrap_or(false),
        e.optional_parse(airsyncbase::PREVIEW)?,
    ))
}

fn preference_element(
    tag: Tag,
    body_type: BodyType,
    truncation_size: Option<u32>,
    all_or_none: bool,
    preview: Option<u32>,
) -> Element {
    // Child order of the AirSyncBase schema: Type, TruncationSize, AllOrNone, Preview.
    let mut e = Element::new(tag);
    e.push_text(airsyncbase::TYPE, body_type.to_string())
        .push_opt(airsyncbase::TRUNCATION_SIZE, truncation_size)
        .push_opt_bool(airsyncbase::ALL_OR_NONE, all_or_none.then_some(true))
        .push_opt(airsyncbase::PREVIEW, preview);
    e
}

/// The content of a Data element. Bodies are text in Sync (also Type 4, MIME); a MIME body
/// fetched by ItemOperations with MIMESupport may be OPAQUE, and OPAQUE is the only way to
/// carry MIME that is not valid UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyData {
    /// Written as an inline string (STR_I).
    Text(String),
    /// Written as OPAQUE bytes.
    Opaque(Vec<u8>),
}

impl BodyData {
    /// The content as bytes, whichever way it is carried.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            BodyData::Text(t) => t.as_bytes(),
            BodyData::Opaque(b) => b,
        }
    }

    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }

    /// The content as text (OPAQUE bytes decoded as UTF-8, invalid sequences replaced).
    pub fn to_text(&self) -> String {
        match self {
            BodyData::Text(t) => t.clone(),
            BodyData::Opaque(b) => String::from_utf8_lossy(b).into_owned(),
        }
    }

    /// The content of a Data element as the client sent it.
    fn of(e: &Element) -> BodyData {
        match e.opaque() {
            Some(b) => BodyData::Opaque(b.to_vec()),
            None => BodyData::Text(e.text().unwrap_or_default()),
        }
    }

    fn element(&self, tag: Tag) -> Element {
        match self {
            BodyData::Text(t) => Element::text_element(tag, t.clone()),
            BodyData::Opaque(b) => Element::opaque_element(tag, b.clone()),
        }
    }

    fn write<W: Write>(&self, w: &mut Writer<W>, tag: Tag) -> Result<(), EncodeError> {
        match self {
            BodyData::Text(t) => w.text_element(tag, t),
            BodyData::Opaque(b) => w.opaque_element(tag, b),
        }
    }
}

impl From<String> for BodyData {
    fn from(s: String) -> Self {
        BodyData::Text(s)
    }
}

impl From<&str> for BodyData {
    fn from(s: &str) -> Self {
        BodyData::Text(s.to_owned())
    }
}

/// An item's body (MS-ASAIRS 2.2.2.9 Body): in server responses Type, EstimatedDataSize,
/// Truncated, Data and Preview; in 16.x client requests (drafts, calendar) Type and Data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    pub body_type: BodyType,
    /// EstimatedDataSize: the size of the whole body in this format.
    pub estimated_data_size: Option<u32>,
    /// Truncated: Data holds only the first TruncationSize bytes.
    pub truncated: Option<bool>,
    /// Data; absent when AllOrNone kept a body that was too large.
    pub data: Option<BodyData>,
    /// Preview (14.0+): up to 255 characters of plain text.
    pub preview: Option<String>,
}

impl Body {
    /// A whole (untruncated) body: Type, EstimatedDataSize (the data's length) and Data.
    pub fn new(body_type: BodyType, data: impl Into<BodyData>) -> Self {
        let data = data.into();
        Body {
            body_type,
            estimated_data_size: Some(u32::try_from(data.len()).unwrap_or(u32::MAX)),
            truncated: None,
            data: Some(data),
            preview: None,
        }
    }

    /// Parses a Body element (a client's Body in a 16.x Add or Change, or a server's).
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        Ok(Body {
            body_type: BodyType::required_child(e, airsyncbase::TYPE)?,
            estimated_data_size: e.optional_parse(airsyncbase::ESTIMATED_DATA_SIZE)?,
            truncated: e.optional_bool(airsyncbase::TRUNCATED)?,
            data: e.child(airsyncbase::DATA).map(BodyData::of),
            preview: e.optional_text(airsyncbase::PREVIEW),
        })
    }

    pub fn to_element(&self) -> Element {
        // Child order of the AirSyncBase schema: Type, EstimatedDataSize, Truncated, Data,
        // Preview.
        let mut e = Element::new(airsyncbase::BODY);
        e.push_text(airsyncbase::TYPE, self.body_type.to_string())
            .push_opt(airsyncbase::ESTIMATED_DATA_SIZE, self.estimated_data_size)
            .push_opt_bool(airsyncbase::TRUNCATED, self.truncated);
        if let Some(d) = &self.data {
            e.push(d.element(airsyncbase::DATA));
        }
        e.push_opt(airsyncbase::PREVIEW, self.preview.as_deref());
        e
    }

    /// Streams the Body element (large bodies are not copied into a tree first).
    pub fn write<W: Write>(&self, w: &mut Writer<W>) -> Result<(), EncodeError> {
        w.start(airsyncbase::BODY)?;
        w.text_element(airsyncbase::TYPE, &self.body_type.to_string())?;
        if let Some(n) = self.estimated_data_size {
            w.text_element(airsyncbase::ESTIMATED_DATA_SIZE, &n.to_string())?;
        }
        if let Some(t) = self.truncated {
            w.text_element(airsyncbase::TRUNCATED, bool_text(t))?;
        }
        if let Some(d) = &self.data {
            d.write(w, airsyncbase::DATA)?;
        }
        if let Some(p) = &self.preview {
            w.text_element(airsyncbase::PREVIEW, p)?;
        }
        w.end()
    }
}

/// The status of a BodyPart (MS-ASAIRS Status of BodyPart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyPartStatus {
    /// 1
    Success,
    /// 176: the conversation is too large to compute the body part.
    ConversationTooLarge,
}

impl BodyPartStatus {
    pub const fn code(self) -> u16 {
        match self {
            BodyPartStatus::Success => 1,
            BodyPartStatus::ConversationTooLarge => 176,
        }
    }

    pub fn from_code(code: u16) -> Option<Self> {
        match code {
            1 => Some(BodyPartStatus::Success),
            176 => Some(BodyPartStatus::ConversationTooLarge),
            _ => None,
        }
    }
}

/// The part of a message's body that is new in its conversation (MS-ASAIRS 2.2.2.10 BodyPart,
/// 14.1+), sent when the client asked with BodyPartPreference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyPart {
    pub status: BodyPartStatus,
    pub body_type: BodyType,
    pub estimated_data_size: u32,
    pub truncated: Option<bool>,
    pub data: Option<BodyData>,
    pub preview: Option<String>,
}

impl BodyPart {
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        let status_el = e.required(airsyncbase::STATUS)?;
        let code: u16 = crate::element::parse_value(status_el)?;
        Ok(BodyPart {
            status: BodyPartStatus::from_code(code).ok_or_else(|| {
                invalid_value(status_el.tag, &code.to_string(), "unknown BodyPart status")
            })?,
            body_type: BodyType::required_child(e, airsyncbase::TYPE)?,
            estimated_data_size: e.required_parse(airsyncbase::ESTIMATED_DATA_SIZE)?,
            truncated: e.optional_bool(airsyncbase::TRUNCATED)?,
            data: e.child(airsyncbase::DATA).map(BodyData::of),
            preview: e.optional_text(airsyncbase::PREVIEW),
        })
    }

    pub fn to_element(&self) -> Element {
        // Schema order: Status, Type, EstimatedDataSize, Truncated, Data, Preview.
        let mut e = Element::new(airsyncbase::BODY_PART);
        e.push_text(airsyncbase::STATUS, self.status.code().to_string())
            .push_text(airsyncbase::TYPE, self.body_type.to_string())
            .push_text(
                airsyncbase::ESTIMATED_DATA_SIZE,
                self.estimated_data_size.to_string(),
            )
            .push_opt_bool(airsyncbase::TRUNCATED, self.truncated);
        if let Some(d) = &self.data {
            e.push(d.element(airsyncbase::DATA));
        }
        e.push_opt(airsyncbase::PREVIEW, self.preview.as_deref());
        e
    }
}

/// How an attachment is attached (MS-ASAIRS Method).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttachmentMethod {
    /// 1: a normal attachment.
    Normal,
    /// 5: an embedded message (an attached .eml).
    EmbeddedMessage,
    /// 6: an OLE object.
    Ole,
}

impl AttachmentMethod {
    pub const fn code(self) -> u8 {
        match self {
            AttachmentMethod::Normal => 1,
            AttachmentMethod::EmbeddedMessage => 5,
            AttachmentMethod::Ole => 6,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(AttachmentMethod::Normal),
            5 => Some(AttachmentMethod::EmbeddedMessage),
            6 => Some(AttachmentMethod::Ole),
            _ => None,
        }
    }

    fn required_child(parent: &Element) -> Result<Self, ParseError> {
        let e = parent.required(airsyncbase::METHOD)?;
        let text = e.text().unwrap_or_default();
        text.trim()
            .parse::<u8>()
            .ok()
            .and_then(AttachmentMethod::from_code)
            .ok_or_else(|| invalid_value(e.tag, &text, "expected an attachment method 1, 5 or 6"))
    }
}

/// An attachment as the server describes it (MS-ASAIRS 2.2.2.7 Attachment); its content is
/// fetched with ItemOperations (or GetAttachment in 12.1) by FileReference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub display_name: Option<String>,
    /// FileReference: the server's handle for the content.
    pub file_reference: String,
    pub method: AttachmentMethod,
    pub estimated_data_size: u32,
    pub content_id: Option<String>,
    pub content_location: Option<String>,
    pub is_inline: Option<bool>,
    /// email2:UmAttDuration (MS-ASEMAIL): seconds of a voice mail attachment.
    pub um_att_duration: Option<u32>,
    /// email2:UmAttOrder (MS-ASEMAIL): order of a voice mail attachment.
    pub um_att_order: Option<u32>,
}

impl Attachment {
    pub fn new(file_reference: impl Into<String>, estimated_data_size: u32) -> Self {
        Attachment {
            display_name: None,
            file_reference: file_reference.into(),
            method: AttachmentMethod::Normal,
            estimated_data_size,
            content_id: None,
            content_location: None,
            is_inline: None,
            um_att_duration: None,
            um_att_order: None,
        }
    }

    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        Ok(Attachment {
            display_name: e.optional_text(airsyncbase::DISPLAY_NAME),
            file_reference: e.required_text(airsyncbase::FILE_REFERENCE)?,
            method: AttachmentMethod::required_child(e)?,
            estimated_data_size: e.required_parse(airsyncbase::ESTIMATED_DATA_SIZE)?,
            content_id: e.optional_text(airsyncbase::CONTENT_ID),
            content_location: e.optional_text(airsyncbase::CONTENT_LOCATION),
            is_inline: e.optional_bool(airsyncbase::IS_INLINE)?,
            um_att_duration: e.optional_parse(email2::UM_ATT_DURATION)?,
            um_att_order: e.optional_parse(email2::UM_ATT_ORDER)?,
        })
    }

    pub fn to_element(&self) -> Element {
        let mut e = Element::new(airsyncbase::ATTACHMENT);
        e.push_opt(airsyncbase::DISPLAY_NAME, self.display_name.as_deref())
            .push_text(airsyncbase::FILE_REFERENCE, self.file_reference.clone())
            .push_text(airsyncbase::METHOD, self.method.code().to_string())
            .push_text(
                airsyncbase::ESTIMATED_DATA_SIZE,
                self.estimated_data_size.to_string(),
            )
            .push_opt(airsyncbase::CONTENT_ID, self.content_id.as_deref())
            .push_opt(
                airsyncbase::CONTENT_LOCATION,
                self.content_location.as_deref(),
            )
            .push_opt_bool(airsyncbase::IS_INLINE, self.is_inline)
            .push_opt(email2::UM_ATT_DURATION, self.um_att_duration)
            .push_opt(email2::UM_ATT_ORDER, self.um_att_order);
        e
    }
}

/// `<airsyncbase:Attachments>` with one Attachment per entry (MS-ASAIRS 2.2.2.8).
pub fn attachments_element(attachments: &[Attachment]) -> Element {
    let mut e = Element::new(airsyncbase::ATTACHMENTS);
    for a in attachments {
        e.push(a.to_element());
    }
    e
}

/// Parses the Attachment children of an Attachments element (server form).
pub fn parse_attachments(e: &Element) -> Result<Vec<Attachment>, ParseError> {
    e.children_with(airsyncbase::ATTACHMENT)
        .map(Attachment::parse)
        .collect()
}

/// An attachment a 16.x client adds to a draft or a calendar item (MS-ASAIRS Add).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentAdd {
    /// ClientId: the client's temporary id; the server answers with a
    /// FileReference for it.
    pub client_id: String,
    pub method: AttachmentMethod,
    pub content_type: Option<String>,
    /// Content: the attachment's bytes (OPAQUE; text is accepted too).
    pub content: Vec<u8>,
    pub display_name: String,
    pub content_id: Option<String>,
    pub content_location: Option<String>,
    pub is_inline: Option<bool>,
}

impl AttachmentAdd {
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        Ok(AttachmentAdd {
            client_id: e.required_text(airsyncbase::CLIENT_ID)?,
            method: AttachmentMethod::required_child(e)?,
            content_type: e.optional_text(airsyncbase::CONTENT_TYPE),
            content: e
                .child(airsyncbase::CONTENT)
                .and_then(Element::bytes)
                .unwrap_or_default(),
            display_name: e.required_text(airsyncbase::DISPLAY_NAME)?,
            content_id: e.optional_text(airsyncbase::CONTENT_ID),
            content_location: e.optional_text(airsyncbase::CONTENT_LOCATION),
            is_inline: e.optional_bool(airsyncbase::IS_INLINE)?,
        })
    }

    pub fn to_element(&self) -> Element {
        let mut e = Element::new(airsyncbase::ADD);
        e.push_text(airsyncbase::CLIENT_ID, self.client_id.clone())
            .push_text(airsyncbase::METHOD, self.method.code().to_string())
            .push_opt(airsyncbase::CONTENT_TYPE, self.content_type.as_deref())
            .push(Element::opaque_element(
                airsyncbase::CONTENT,
                self.content.clone(),
            ))
            .push_text(airsyncbase::DISPLAY_NAME, self.display_name.clone())
            .push_opt(airsyncbase::CONTENT_ID, self.content_id.as_deref())
            .push_opt(
                airsyncbase::CONTENT_LOCATION,
                self.content_location.as_deref(),
            )
            .push_opt_bool(airsyncbase::IS_INLINE, self.is_inline);
        e
    }
}

/// A 16.x client's attachment changes (MS-ASAIRS 2.2.2.8 Attachments with Add and Delete
/// children).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttachmentChanges {
    pub add: Vec<AttachmentAdd>,
    /// The FileReference of each Delete.
    pub delete: Vec<String>,
}

impl AttachmentChanges {
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        let mut out = AttachmentChanges::default();
        for child in e.elements() {
            if child.tag == airsyncbase::ADD {
                out.add.push(AttachmentAdd::parse(child)?);
            } else if child.tag == airsyncbase::DELETE {
                out.delete
                    .push(child.required_text(airsyncbase::FILE_REFERENCE)?);
            }
        }
        Ok(out)
    }

    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.delete.is_empty()
    }

    pub fn to_element(&self) -> Element {
        let mut e = Element::new(airsyncbase::ATTACHMENTS);
        for r in &self.delete {
            e.push(Element::new(airsyncbase::DELETE).with_text(airsyncbase::FILE_REFERENCE, r));
        }
        for a in &self.add {
            e.push(a.to_element());
        }
        e
    }
}

/// `<airsyncbase:NativeBodyType>` (MS-ASAIRS 2.2.2.32): the format the item is stored in.
pub fn native_body_type_element(body_type: BodyType) -> Element {
    Element::text_element(airsyncbase::NATIVE_BODY_TYPE, body_type.to_string())
}

/// A place (MS-ASAIRS Location, 16.0+), used by calendar items and meeting
/// requests instead of the older text Location.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Location {
    pub display_name: Option<String>,
    pub annotation: Option<String>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub postal_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub accuracy: Option<f64>,
    pub altitude: Option<f64>,
    pub altitude_accuracy: Option<f64>,
    pub location_uri: Option<String>,
}

impl Location {
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        Ok(Location {
            display_name: e.optional_text(airsyncbase::DISPLAY_NAME),
            annotation: e.optional_text(airsyncbase::ANNOTATION),
            street: e.optional_text(airsyncbase::STREET),
            city: e.optional_text(airsyncbase::CITY),
            state: e.optional_text(airsyncbase::STATE),
            country: e.optional_text(airsyncbase::COUNTRY),
            postal_code: e.optional_text(airsyncbase::POSTAL_CODE),
            latitude: optional_f64(e, airsyncbase::LATITUDE)?,
            longitude: optional_f64(e, airsyncbase::LONGITUDE)?,
            accuracy: optional_f64(e, airsyncbase::ACCURACY)?,
            altitude: optional_f64(e, airsyncbase::ALTITUDE)?,
            altitude_accuracy: optional_f64(e, airsyncbase::ALTITUDE_ACCURACY)?,
            location_uri: e.optional_text(airsyncbase::LOCATION_URI),
        })
    }

    pub fn to_element(&self) -> Element {
        let mut e = Element::new(airsyncbase::LOCATION);
        e.push_opt(airsyncbase::DISPLAY_NAME, self.display_name.as_deref())
            .push_opt(airsyncbase::ANNOTATION, self.annotation.as_deref())
            .push_opt(airsyncbase::STREET, self.street.as_deref())
            .push_opt(airsyncbase::CITY, self.city.as_deref())
            .push_opt(airsyncbase::STATE, self.state.as_deref())
            .push_opt(airsyncbase::COUNTRY, self.country.as_deref())
            .push_opt(airsyncbase::POSTAL_CODE, self.postal_code.as_deref())
            .push_opt(airsyncbase::LATITUDE, self.latitude)
            .push_opt(airsyncbase::LONGITUDE, self.longitude)
            .push_opt(airsyncbase::ACCURACY, self.accuracy)
            .push_opt(airsyncbase::ALTITUDE, self.altitude)
            .push_opt(airsyncbase::ALTITUDE_ACCURACY, self.altitude_accuracy)
            .push_opt(airsyncbase::LOCATION_URI, self.location_uri.as_deref());
        e
    }
}

/// A double (MS-ASDTYPE 2.4); NaN and infinities are not values a client may send.
fn optional_f64(e: &Element, tag: Tag) -> Result<Option<f64>, ParseError> {
    match e.optional_parse::<f64>(tag)? {
        Some(v) if !v.is_finite() => Err(invalid_value(tag, &v.to_string(), "not a finite number")),
        v => Ok(v),
    }
}

/// The Sync `Supported` list (MS-ASCMD 2.2.3.179): the Contacts, Contacts2 and Calendar
/// properties the client manages. It is sent with SyncKey 0 and holds for the life of the
/// sync state.
///
/// Ghosting (MS-ASCMD 2.2.3.179): when a client sent a Supported list, a property it does NOT
/// list is ghosted: a Change without it leaves the server's value alone. A listed property
/// that is absent from a Change is deleted on the server. Without any Supported list every
/// property is managed by the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Supported {
    tags: Vec<Tag>,
}

impl Supported {
    /// Parses a Supported element: each child is an empty element naming a property.
    pub fn parse(e: &Element) -> Self {
        let mut tags: Vec<Tag> = e.elements().map(|c| c.tag).collect();
        tags.sort_unstable();
        tags.dedup();
        Supported { tags }
    }

    pub fn from_tags(tags: impl IntoIterator<Item = Tag>) -> Self {
        let mut tags: Vec<Tag> = tags.into_iter().collect();
        tags.sort_unstable();
        tags.dedup();
        Supported { tags }
    }

    /// The listed properties, in tag order.
    pub fn tags(&self) -> &[Tag] {
        &self.tags
    }

    /// True when the client listed `tag` (it manages the property).
    pub fn contains(&self, tag: Tag) -> bool {
        self.tags.binary_search(&tag).is_ok()
    }

    /// True when a property absent from a client's Change keeps its server value.
    pub fn is_ghosted(&self, tag: Tag) -> bool {
        !self.contains(tag)
    }

    pub fn to_element(&self) -> Element {
        let mut e = Element::new(airsync::SUPPORTED);
        for t in &self.tags {
            e.push(Element::new(*t));
        }
        e
    }
}

/// Whether a property absent from a client's Change keeps its server value, given the
/// collection's Supported list (`None`: the client sent none, so it manages everything).
pub fn is_ghosted(supported: Option<&Supported>, tag: Tag) -> bool {
    supported.is_some_and(|s| s.is_ghosted(tag))
}

/// "0" or "1" (MS-ASDTYPE 2.1 boolean).
pub(crate) fn bool_text(b: bool) -> &'static str {
    if b {
        "1"
    } else {
        "0"
    }
}

/// The element's content nodes are only whitespace text, or nothing.
pub(crate) fn is_empty_element(e: &Element) -> bool {
    e.children.iter().all(|n| match n {
        Node::Text(t) => t.trim().is_empty(),
        Node::Opaque(b) => b.is_empty(),
        Node::Element(_) => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use easd_wbxml::tags::{calendar, contacts};

    #[test]
    fn body_preference_round_trip() {
        // An HTML preference truncated at 51200 with a 255-character preview.
        let e = Element::new(airsyncbase::BODY_PREFERENCE)
            .with_text(airsyncbase::TYPE, "2")
            .with_text(airsyncbase::TRUNCATION_SIZE, "51200")
            .with_text(airsyncbase::ALL_OR_NONE, "0")
            .with_text(airsyncbase::PREVIEW, "255");
        let p = BodyPreference::parse(&e).unwrap();
        assert_eq!(p.body_type, BodyType::Html);
        assert_eq!(p.truncation_size, Some(51200));
        assert!(!p.all_or_none);
        assert_eq!(p.preview, Some(255));
        assert_eq!(BodyPreference::parse(&p.to_element()).unwrap(), p);
    }

    #[test]
    fn body_preference_rejects_bad_type() {
        for bad in ["0", "5", "x", ""] {
            let e = Element::new(airsyncbase::BODY_PREFERENCE).with_text(airsyncbase::TYPE, bad);
            assert!(BodyPreference::parse(&e).is_err(), "{bad:?}");
        }
        let missing = Element::new(airsyncbase::BODY_PREFERENCE);
        assert!(matches!(
            BodyPreference::parse(&missing),
            Err(ParseError::MissingElement { .. })
        ));
    }

    #[test]
    fn body_writes_schema_order_and_both_data_forms() {
        let mut b = Body::new(BodyType::Plain, "Hello");
        b.truncated = Some(false);
        b.preview = Some("Hello".into());
        let e = b.to_element();
        let tags: Vec<Tag> = e.elements().map(|c| c.tag).collect();
        assert_eq!(
            tags,
            [
                airsyncbase::TYPE,
                airsyncbase::ESTIMATED_DATA_SIZE,
                airsyncbase::TRUNCATED,
                airsyncbase::DATA,
                airsyncbase::PREVIEW
            ]
        );
        assert_eq!(e.child_text(airsyncbase::ESTIMATED_DATA_SIZE).unwrap(), "5");
        assert_eq!(Body::parse(&e).unwrap(), b);

        let mime = Body::new(
            BodyType::Mime,
            BodyData::Opaque(b"Subject: x\r\n\r\n\xff".to_vec()),
        );
        let e = mime.to_element();
        assert!(e.child(airsyncbase::DATA).unwrap().opaque().is_some());
        assert_eq!(Body::parse(&e).unwrap(), mime);
    }

    #[test]
    fn body_write_streams_the_same_bytes() {
        let mut b = Body::new(BodyType::Html, "<p>x</p>");
        b.truncated = Some(true);
        b.preview = Some("x".into());
        let mut w = Writer::new(Vec::new());
        b.write(&mut w).unwrap();
        assert_eq!(w.finish().unwrap(), easd_wbxml::encode(&b.to_element()));
    }

    #[test]
    fn attachments_round_trip() {
        let mut a = Attachment::new("5%3a1%3a0", 4096);
        a.display_name = Some("sheet.xlsx".into());
        a.content_id = Some("cid1".into());
        a.is_inline = Some(false);
        let list = attachments_element(std::slice::from_ref(&a));
        assert_eq!(parse_attachments(&list).unwrap(), vec![a]);
    }

    #[test]
    fn attachment_changes_of_a_draft() {
        // The 16.x draft form: Delete by FileReference, Add with ClientId and Content.
        let e = Element::new(airsyncbase::ATTACHMENTS)
            .with(
                Element::new(airsyncbase::DELETE)
                    .with_text(airsyncbase::FILE_REFERENCE, "4%3a3%3a0"),
            )
            .with(
                Element::new(airsyncbase::ADD)
                    .with_text(airsyncbase::CLIENT_ID, "att-1")
                    .with_text(airsyncbase::METHOD, "1")
                    .with_text(airsyncbase::DISPLAY_NAME, "plan.txt")
                    .with_text(airsyncbase::CONTENT_TYPE, "text/plain")
                    .with(Element::opaque_element(
                        airsyncbase::CONTENT,
                        b"plan".to_vec(),
                    ))
                    .with_text(airsyncbase::IS_INLINE, "0"),
            );
        let c = AttachmentChanges::parse(&e).unwrap();
        assert_eq!(c.delete, vec!["4%3a3%3a0".to_string()]);
        assert_eq!(c.add.len(), 1);
        assert_eq!(c.add[0].client_id, "att-1");
        assert_eq!(c.add[0].content, b"plan");
        assert_eq!(c.add[0].is_inline, Some(false));
        assert_eq!(AttachmentChanges::parse(&c.to_element()).unwrap(), c);
    }

    #[test]
    fn location_round_trip_and_rejects_nan() {
        let l = Location {
            display_name: Some("Room 4/1142".into()),
            latitude: Some(47.64),
            longitude: Some(-122.13),
            ..Location::default()
        };
        assert_eq!(Location::parse(&l.to_element()).unwrap(), l);
        let bad = Element::new(airsyncbase::LOCATION).with_text(airsyncbase::LATITUDE, "NaN");
        assert!(Location::parse(&bad).is_err());
    }

    #[test]
    fn supported_list_decides_ghosting() {
        let e = Element::new(airsync::SUPPORTED)
            .with(Element::new(contacts::FIRST_NAME))
            .with(Element::new(contacts::LAST_NAME))
            .with(Element::new(calendar::SUBJECT));
        let s = Supported::parse(&e);
        assert!(s.contains(contacts::FIRST_NAME));
        assert!(!s.is_ghosted(calendar::SUBJECT));
        assert!(s.is_ghosted(contacts::PICTURE));
        assert!(is_ghosted(Some(&s), contacts::PICTURE));
        assert!(!is_ghosted(None, contacts::PICTURE));
        assert_eq!(Supported::parse(&s.to_element()), s);
    }

    #[test]
    fn body_part_round_trip() {
        let p = BodyPart {
            status: BodyPartStatus::Success,
            body_type: BodyType::Html,
            estimated_data_size: 31,
            truncated: Some(false),
            data: Some("<p>Latest reply only</p>".into()),
            preview: Some("Latest reply only".into()),
        };
        assert_eq!(BodyPart::parse(&p.to_element()).unwrap(), p);
    }
}
