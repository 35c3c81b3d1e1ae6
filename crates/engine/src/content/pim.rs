//! The classes beside Email (Calendar, Contacts, Tasks, Notes) as one kind of thing for
//! Sync, ItemOperations and import: read a client's ApplicationData, write it into the
//! stored format (iCalendar, vCard, text: ARCHITECTURE.md), read a stored item back for a
//! client, and derive the fields the store indexes.

use crate::content::email::{shape_body, BodyOptions};
use crate::content::{calendar, contact, note, task, ChangeMode};
use easd_protocol::items::airsyncbase::{Body, BodyData, BodyPreference, BodyType};
use easd_protocol::items::calendar::Calendar;
use easd_protocol::items::contact::Contact;
use easd_protocol::items::note::Note;
use easd_protocol::items::task::Task;
use easd_protocol::{ParseError, ProtocolVersion};
use easd_store::{ItemClass, ItemFields};
use easd_wbxml::Element;
use jiff::{tz, Timestamp};

/// The "relevant until" date of an item that never leaves a filter window: an event
/// repeating without end, an incomplete task (9999-12-31T23:59:59Z).
pub const FAR_FUTURE: i64 = 253_402_300_799;

/// Why an item does not convert. A client's item that fails is Sync Status 6
/// (MS-ASCMD 2.2.3.177.17: "Error in client/server conversion").
#[derive(Debug, thiserror::Error)]
pub enum PimError {
    #[error("the item is not valid: {0}")]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Calendar(#[from] calendar::CalendarError),
    #[error(transparent)]
    Contact(#[from] contact::ContactError),
    #[error(transparent)]
    Task(#[from] task::TaskError),
    #[error("the stored item is not UTF-8 text")]
    NotText,
    #[error("{0:?} items are mail, not a calendar, contact, task or note")]
    NotPim(ItemClass),
}

/// A Calendar, Contacts, Tasks or Notes item as EAS carries it.
#[derive(Debug, Clone, PartialEq)]
pub enum PimItem {
    Event(Box<Calendar>),
    Contact(Box<Contact>),
    Task(Box<Task>),
    Note(Note),
}

impl PimItem {
    /// Reads a client's ApplicationData of a folder of `class`.
    pub fn parse(class: ItemClass, application_data: &Element) -> Result<Self, PimError> {
        Ok(match class {
            ItemClass::Calendar => PimItem::Event(Box::new(Calendar::parse(application_data)?)),
            ItemClass::Contacts => PimItem::Contact(Box::new(Contact::parse(application_data)?)),
            ItemClass::Tasks => PimItem::Task(Box::new(Task::parse(application_data)?)),
            ItemClass::Notes => PimItem::Note(Note::parse(application_data)?),
            ItemClass::Email => return Err(PimError::NotPim(class)),
        })
    }

    /// Reads a stored item. Events that are all-day or floating are placed in `zone`
    /// (see [`calendar::from_ical`]).
    pub fn read(class: ItemClass, content: &[u8], zone: &tz::TimeZone) -> Result<Self, PimError> {
        let text = std::str::from_utf8(content).map_err(|_| PimError::NotText)?;
        Ok(match class {
            ItemClass::Calendar => PimItem::Event(Box::new(calendar::from_ics(text, zone)?)),
            ItemClass::Contacts => {
                PimItem::Contact(Box::new(contact::from_vcard(&contact::parse_vcard(text)?)))
            }
            ItemClass::Tasks => PimItem::Task(Box::new(task::parse_task(text)?)),
            ItemClass::Notes => PimItem::Note(note::from_text(text)),
            ItemClass::Email => return Err(PimError::NotPim(class)),
        })
    }

    pub fn class(&self) -> ItemClass {
        match self {
            PimItem::Event(_) => ItemClass::Calendar,
            PimItem::Contact(_) => ItemClass::Contacts,
            PimItem::Task(_) => ItemClass::Tasks,
            PimItem::Note(_) => ItemClass::Notes,
        }
    }

    /// The item as Sync ApplicationData for `version`.
    pub fn to_application_data(&self, version: ProtocolVersion) -> Element {
        match self {
            PimItem::Event(c) => c.to_application_data(version),
            PimItem::Contact(c) => c.to_application_data(version),
            PimItem::Task(t) => t.to_application_data(version),
            PimItem::Note(n) => n.to_application_data(version),
        }
    }

    /// The same properties under another parent (itemoperations:Properties,
    /// search:Properties).
    pub fn to_element_with_tag(&self, tag: easd_wbxml::Tag, version: ProtocolVersion) -> Element {
        match self {
            PimItem::Event(c) => c.to_element_with_tag(tag, version),
            PimItem::Contact(c) => c.to_element_with_tag(tag, version),
            PimItem::Task(t) => t.to_element_with_tag(tag, version),
            PimItem::Note(n) => n.to_element_with_tag(tag, version),
        }
    }

    fn body_mut(&mut self) -> Option<&mut Option<Body>> {
        match self {
            PimItem::Event(c) => Some(&mut c.fields.body),
            PimItem::Contact(c) => Some(&mut c.body),
            PimItem::Task(t) => Some(&mut t.body),
            PimItem::Note(n) => Some(&mut n.body),
        }
    }

    /// Cuts the body to the client's BodyPreference (MS-ASAIRS 2.2.2.9). An HTML body
    /// goes out as HTML when the client takes it, else as its text.
    pub fn fit_body(&mut self, prefs: &[BodyPreference]) {
        let Some(slot) = self.body_mut() else {
            return;
        };
        let Some(body) = slot.take() else {
            return;
        };
        let full = body
            .data
            .as_ref()
            .map(BodyData::to_text)
            .unwrap_or_default();
        let wanted = prefs
            .iter()
            .find(|p| p.body_type == body.body_type)
            .or_else(|| prefs.iter().find(|p| p.body_type == BodyType::Plain))
            .or(prefs.first())
            .cloned()
            .unwrap_or_else(|| BodyPreference::new(BodyType::Plain));
        let (body_type, data) = match (body.body_type, wanted.body_type) {
            (BodyType::Html, BodyType::Html) => (BodyType::Html, full.clone()),
            (BodyType::Html, _) => (BodyType::Plain, html_text(&full)),
            (own, _) => (own, full.clone()),
        };
        let plain = || {
            if body.body_type == BodyType::Html {
                html_text(&full)
            } else {
                full.clone()
            }
        };
        *slot = Some(shape_body(body_type, data, plain, &wanted));
    }

    /// The text stored for a client's new item, with `uid` as its UID (events, contacts,
    /// tasks; an event keeps the UID its client sent; the event's DTSTAMP is `now` when the client sent none, RFC 5545 3.8.7.2).
    pub fn new_content(&self, uid: &str, now: Timestamp) -> Result<String, PimError> {
        Ok(match self {
            PimItem::Event(c) => {
                let mut c = (**c).clone();
                // MS-ASCAL UID: before 16.0 the client generates the UID of the event it
                // creates (meetings are matched by it); the server makes one otherwise.
                if c.uid.as_deref().is_none_or(str::is_empty) {
                    c.uid = Some(uid.to_owned());
                }
                if c.fields.dt_stamp.is_none() {
                    c.fields.dt_stamp = Some(crate::content::recurrence::compact_datetime(now));
                }
                calendar::to_ics(&c)?
            }
            PimItem::Contact(c) => contact::write_vcard(&contact::to_vcard(c, uid)),
            PimItem::Task(t) => {
                task::check_dates(t)?;
                task::write_ical(&task::to_vtodo(t, uid))
            }
            PimItem::Note(n) => {
                let mut n = n.clone();
                n.last_modified_date = Some(eas_time(now));
                note::to_text(&n)
            }
        })
    }

    /// The stored text after a client's Change of the item stored as `stored`.
    pub fn changed_content(
        &self,
        stored: &[u8],
        mode: ChangeMode,
        now: Timestamp,
    ) -> Result<String, PimError> {
        let text = std::str::from_utf8(stored).map_err(|_| PimError::NotText)?;
        Ok(match self {
            PimItem::Event(c) => {
                let ical = calcard::icalendar::ICalendar::parse(text)
                    .map_err(|_| calendar::CalendarError::NotICalendar)?;
                calendar::apply_change(&ical, c, mode, &tz::TimeZone::UTC)?.to_string()
            }
            PimItem::Contact(c) => contact::apply_to_text(text, c, mode)?,
            PimItem::Task(t) => {
                task::check_dates(t)?;
                task::apply_to_text(text, t, mode)?
            }
            PimItem::Note(n) => {
                let mut stored = note::from_text(text);
                match mode {
                    ChangeMode::Partial => note::apply_change(&mut stored, n),
                    ChangeMode::Replace { .. } => stored = n.clone(),
                }
                stored.last_modified_date = Some(eas_time(now));
                note::to_text(&stored)
            }
        })
    }
}

fn html_text(html: &str) -> String {
    html2text::from_read(html.as_bytes(), 80).unwrap_or_else(|_| html.to_owned())
}

/// MS-ASDTYPE 2.3 dateTime with milliseconds, as Notes' LastModifiedDate is written.
fn eas_time(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The EAS MessageClass of each class (MS-ASEMAIL 2.2.2.48 lists the IPM classes).
fn message_class(class: ItemClass) -> &'static str {
    match class {
        ItemClass::Email => "IPM.Note",
        ItemClass::Calendar => "IPM.Appointment",
        ItemClass::Contacts => "IPM.Contact",
        ItemClass::Tasks => "IPM.Task",
        ItemClass::Notes => "IPM.StickyNote",
    }
}

/// The fields the store indexes for a stored (or imported) item of `class`:
/// - `subject`: the event's, task's or note's Subject; the contact's FileAs or name;
/// - `date_received`: the date the item is relevant until, which Sync's FilterType compares
///   against: the end of an event's last occurrence ([`FAR_FUTURE`] without end), a
///   task's completion ([`FAR_FUTURE`] while incomplete), a note's last change, a
///   contact's 0 (contacts have no filter);
/// - `uid`: the iCalendar or vCard UID (meeting responses, duplicate checks on import).
pub fn stored_fields(class: ItemClass, content: &[u8]) -> Result<ItemFields, PimError> {
    let item = PimItem::read(class, content, &tz::TimeZone::UTC)?;
    let text = std::str::from_utf8(content).map_err(|_| PimError::NotText)?;
    let mut f = ItemFields {
        message_class: message_class(class).to_owned(),
        size: i64::try_from(content.len()).unwrap_or(i64::MAX),
        read: true,
        ..ItemFields::default()
    };
    match &item {
        PimItem::Event(c) => {
            let (start, last_end) = calendar::span(c)?;
            f.subject = c.fields.subject.clone().unwrap_or_default();
            f.from = c.organizer_email.clone().unwrap_or_default();
            f.date_received = last_end.map_or(FAR_FUTURE, |t| t.as_second());
            f.categories = c.fields.categories.clone().unwrap_or_default();
            f.uid = c.uid.clone();
            f.extra = serde_json::json!({ "start": start.as_second() });
        }
        PimItem::Contact(c) => {
            f.subject = c
                .file_as
                .clone()
                .or_else(|| {
                    let name = [c.first_name.as_deref(), c.last_name.as_deref()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" ");
                    (!name.is_empty()).then_some(name)
                })
                .or_else(|| c.company_name.clone())
                .unwrap_or_default();
            f.from = c.email1_address.clone().unwrap_or_default();
            f.categories = c.categories.clone().unwrap_or_default();
            f.uid = contact::parse_vcard(text)?
                .uid()
                .map(str::to_owned)
                .filter(|u| !u.is_empty());
        }
        PimItem::Task(t) => {
            f.subject = t.subject.clone().unwrap_or_default();
            f.date_received = if task::is_incomplete(t) {
                FAR_FUTURE
            } else {
                t.date_completed
                    .as_deref()
                    .and_then(crate::recipients::parse_eas_datetime)
                    .map_or(0, |d| d.unix_timestamp())
            };
            f.flag_status = if task::is_incomplete(t) { 2 } else { 1 };
            f.categories = t.categories.clone().unwrap_or_default();
            f.uid = calcard::icalendar::ICalendar::parse(text)
                .ok()
                .and_then(|ical| {
                    ical.components
                        .iter()
                        .find_map(|c| c.uid().map(str::to_owned))
                });
        }
        PimItem::Note(n) => {
            f.subject = n.subject.clone().unwrap_or_default();
            f.date_received = n
                .last_modified_date
                .as_deref()
                .and_then(crate::recipients::parse_eas_datetime)
                .map_or(0, |d| d.unix_timestamp());
            f.categories = n.categories.clone().unwrap_or_default();
            if let Some(class) = &n.message_class {
                f.message_class.clone_from(class);
            }
        }
    }
    Ok(f)
}

/// Reads a stored item for a client, its body cut to the client's preferences; all-day
/// and floating events are placed in `zone`.
pub fn render(
    class: ItemClass,
    content: &[u8],
    body: &BodyOptions,
    zone: &tz::TimeZone,
) -> Result<PimItem, PimError> {
    let mut item = PimItem::read(class, content, zone)?;
    item.fit_body(&body.body);
    if let PimItem::Note(n) = &mut item {
        n.message_class
            .get_or_insert_with(|| message_class(ItemClass::Notes).to_owned());
    }
    Ok(item)
}
