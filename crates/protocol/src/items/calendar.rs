//! The Calendar class (MS-ASCAL): an event as the server sends it in Sync, Search and
//! ItemOperations, and as a client adds or changes it.
//!
//! Dates are MS-ASCAL's compact dateTime ("20261125T090000Z", MS-ASDTYPE 2.3), kept as
//! text; the engine converts them. Every property is optional: in a 16.x Change an absent
//! property is unchanged (MS-ASCMD 2.2.3.24 Change), so lists are `Option<Vec<_>>` to tell
//! "absent" from "empty".

use crate::element::{invalid_value, parse_value, ElementExt};
use crate::error::ParseError;
use crate::items::airsyncbase::{native_body_type_element, Body, BodyType, Location};
use crate::items::recurrence::Recurrence;
use crate::macros::code_enum;
use crate::values::TimeZone;
use crate::version::ProtocolVersion;
use easd_wbxml::tags::{airsync, airsyncbase, calendar, meeting_response};
use easd_wbxml::{Element, Tag};

code_enum! {
    /// How the time shows in free/busy (MS-ASCAL 2.2.2.9 BusyStatus).
    BusyStatus: u8 {
        Free = 0,
        Tentative = 1,
        Busy = 2,
        OutOfOffice = 3,
        /// 16.0+.
        WorkingElsewhere = 4,
    }
}

code_enum! {
    /// MS-ASCAL Sensitivity.
    Sensitivity: u8 {
        Normal = 0,
        Personal = 1,
        Private = 2,
        Confidential = 3,
    }
}

code_enum! {
    /// An attendee's answer (MS-ASCAL 2.2.2.5 AttendeeStatus).
    AttendeeStatus: u8 {
        ResponseUnknown = 0,
        Tentative = 2,
        Accept = 3,
        Decline = 4,
        NotResponded = 5,
    }
}

code_enum! {
    /// MS-ASCAL 2.2.2.6 AttendeeType.
    AttendeeType: u8 {
        Required = 1,
        Optional = 2,
        Resource = 3,
    }
}

code_enum! {
    /// The user's own answer to a meeting (MS-ASCAL ResponseType, 14.0+).
    ResponseType: u8 {
        None = 0,
        Organizer = 1,
        Tentative = 2,
        Accepted = 3,
        Declined = 4,
        NotResponded = 5,
    }
}

/// MeetingStatus (MS-ASCAL): bit 0 "is a meeting", bit 1 "received", bit 2
/// "canceled", bit 3 "forwarded"; the valid values are 0, 1, 3, 5, 7, 9, 11, 13 and 15.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MeetingStatus(u8);

impl MeetingStatus {
    pub const APPOINTMENT: MeetingStatus = MeetingStatus(0);
    pub const MEETING_ORGANIZED: MeetingStatus = MeetingStatus(1);
    pub const MEETING_RECEIVED: MeetingStatus = MeetingStatus(3);
    pub const MEETING_CANCELED: MeetingStatus = MeetingStatus(5);
    pub const MEETING_RECEIVED_CANCELED: MeetingStatus = MeetingStatus(7);

    pub const fn from_code(code: u8) -> Option<Self> {
        if code == 0 || (code <= 15 && code % 2 == 1) {
            Some(MeetingStatus(code))
        } else {
            None
        }
    }

    pub const fn code(self) -> u8 {
        self.0
    }

    pub const fn is_meeting(self) -> bool {
        self.0 & 1 != 0
    }

    pub const fn is_received(self) -> bool {
        self.0 & 2 != 0
    }

    pub const fn is_canceled(self) -> bool {
        self.0 & 4 != 0
    }
}

/// One invitee (MS-ASCAL 2.2.2.3 Attendee).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attendee {
    pub email: String,
    pub name: String,
    pub attendee_status: Option<AttendeeStatus>,
    pub attendee_type: Option<AttendeeType>,
    /// meetingresponse:ProposedStartTime (MS-ASCMD 2.2.3.141, 16.1).
    pub proposed_start_time: Option<String>,
    /// meetingresponse:ProposedEndTime (MS-ASCMD 2.2.3.140, 16.1).
    pub proposed_end_time: Option<String>,
}

impl Attendee {
    pub fn new(email: impl Into<String>, name: impl Into<String>) -> Self {
        Attendee {
            email: email.into(),
            name: name.into(),
            ..Attendee::default()
        }
    }

    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        Ok(Attendee {
            // Email and Name are required (2.2.2.3); clients leave Name out, so "".
            email: e.required_text_max(calendar::EMAIL, MAX_TEXT)?,
            name: e
                .optional_text_max(calendar::NAME, MAX_TEXT)?
                .unwrap_or_default(),
            attendee_status: code(e, calendar::ATTENDEE_STATUS, AttendeeStatus::from_code)?,
            attendee_type: code(e, calendar::ATTENDEE_TYPE, AttendeeType::from_code)?,
            proposed_start_time: e
                .optional_text_max(meeting_response::PROPOSED_START_TIME, MAX_DATE)?,
            proposed_end_time: e
                .optional_text_max(meeting_response::PROPOSED_END_TIME, MAX_DATE)?,
        })
    }

    /// AttendeeStatus and AttendeeType are 12.0+; the proposed times 16.1.
    pub fn to_element(&self, version: ProtocolVersion) -> Element {
        let mut e = Element::new(calendar::ATTENDEE);
        e.push_text(calendar::EMAIL, self.email.clone())
            .push_text(calendar::NAME, self.name.clone());
        e.push_opt(
            calendar::ATTENDEE_STATUS,
            self.attendee_status.map(AttendeeStatus::code),
        )
        .push_opt(
            calendar::ATTENDEE_TYPE,
            self.attendee_type.map(AttendeeType::code),
        );
        if version >= ProtocolVersion::V16_1 {
            e.push_opt(
                meeting_response::PROPOSED_START_TIME,
                self.proposed_start_time.as_deref(),
            )
            .push_opt(
                meeting_response::PROPOSED_END_TIME,
                self.proposed_end_time.as_deref(),
            );
        }
        e
    }
}

/// The properties of an event an exception may override (MS-ASCAL 2.2.2.21 Exception),
/// and the event's own. Absent (`None`) in an exception: as the series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFields {
    pub subject: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub dt_stamp: Option<String>,
    pub all_day_event: Option<bool>,
    pub body: Option<Body>,
    /// calendar:Location text before 16.0 (its `display_name`), airsyncbase:Location from
    /// 16.0 (MS-ASCAL Location).
    pub location: Option<Location>,
    pub busy_status: Option<BusyStatus>,
    pub sensitivity: Option<Sensitivity>,
    /// Minutes before the start (MS-ASCAL Reminder).
    pub reminder: Option<u32>,
    pub meeting_status: Option<MeetingStatus>,
    pub categories: Option<Vec<String>>,
    pub attendees: Option<Vec<Attendee>>,
    /// 14.0+.
    pub appointment_reply_time: Option<String>,
    /// 14.0+.
    pub response_type: Option<ResponseType>,
    /// 14.1+.
    pub online_meeting_conf_link: Option<String>,
    /// 14.1+.
    pub online_meeting_external_link: Option<String>,
}

/// A modified or deleted occurrence (MS-ASCAL 2.2.2.21 Exception).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exception {
    /// The occurrence is deleted.
    pub deleted: Option<bool>,
    /// The original start of the occurrence: calendar:ExceptionStartTime before 16.0,
    /// airsyncbase:InstanceId from 16.0 (MS-ASCAL ExceptionStartTime).
    pub exception_start_time: Option<String>,
    pub fields: EventFields,
}

impl Exception {
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        let start = match e.optional_text_max(calendar::EXCEPTION_START_TIME, MAX_DATE)? {
            Some(t) => Some(t),
            None => e.optional_text_max(airsyncbase::INSTANCE_ID, MAX_DATE)?,
        };
        Ok(Exception {
            deleted: e.optional_bool(calendar::DELETED)?,
            exception_start_time: start,
            fields: EventFields::parse(e)?,
        })
    }

    pub fn to_element(&self, version: ProtocolVersion) -> Element {
        let mut e = Element::new(calendar::EXCEPTION);
        e.push_opt_bool(calendar::DELETED, self.deleted);
        let start_tag = if version >= ProtocolVersion::V16_0 {
            airsyncbase::INSTANCE_ID
        } else {
            calendar::EXCEPTION_START_TIME
        };
        e.push_opt(start_tag, self.exception_start_time.as_deref());
        self.fields.push(version, &mut e);
        e
    }
}

/// A calendar item (MS-ASCAL 2.2.2).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Calendar {
    pub timezone: Option<TimeZone>,
    pub fields: EventFields,
    pub organizer_name: Option<String>,
    pub organizer_email: Option<String>,
    /// The server's id of the event (the iCalendar UID).
    pub uid: Option<String>,
    pub recurrence: Option<Recurrence>,
    pub exceptions: Option<Vec<Exception>>,
    /// 14.0+.
    pub response_requested: Option<bool>,
    /// 14.0+.
    pub disallow_new_time_proposal: Option<bool>,
    pub native_body_type: Option<BodyType>,
    /// The id a 16.x client gives an event it creates (MS-ASCAL ClientUid, 16.0+).
    pub client_uid: Option<String>,
}

/// Longest text property read from a client (subjects, names, links).
const MAX_TEXT: usize = 32 * 1024;
/// Longest date value.
const MAX_DATE: usize = 64;
/// Most attendees, exceptions or categories in one item.
const MAX_LIST: usize = 10_000;

impl EventFields {
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        let location = match e.child(airsyncbase::LOCATION) {
            Some(l) => Some(Location::parse(l)?),
            None => e
                .optional_text_max(calendar::LOCATION, MAX_TEXT)?
                .map(|text| Location {
                    display_name: Some(text),
                    ..Location::default()
                }),
        };
        let meeting_status = match e.optional_parse::<u8>(calendar::MEETING_STATUS)? {
            None => None,
            Some(c) => Some(MeetingStatus::from_code(c).ok_or_else(|| {
                invalid_value(calendar::MEETING_STATUS, &c.to_string(), "not a status")
            })?),
        };
        let categories = match e.child(calendar::CATEGORIES) {
            None => None,
            Some(c) => Some(bounded_list(c, calendar::CATEGORY, |c| {
                Ok(c.text().unwrap_or_default())
            })?),
        };
        let attendees = match e.child(calendar::ATTENDEES) {
            None => None,
            Some(a) => Some(bounded_list(a, calendar::ATTENDEE, Attendee::parse)?),
        };
        Ok(EventFields {
            subject: e.optional_text_max(calendar::SUBJECT, MAX_TEXT)?,
            start_time: e.optional_text_max(calendar::START_TIME, MAX_DATE)?,
            end_time: e.optional_text_max(calendar::END_TIME, MAX_DATE)?,
            dt_stamp: e.optional_text_max(calendar::DT_STAMP, MAX_DATE)?,
            all_day_event: e.optional_bool(calendar::ALL_DAY_EVENT)?,
            body: e.child(airsyncbase::BODY).map(Body::parse).transpose()?,
            location,
            busy_status: code(e, calendar::BUSY_STATUS, BusyStatus::from_code)?,
            sensitivity: code(e, calendar::SENSITIVITY, Sensitivity::from_code)?,
            reminder: e.optional_parse(calendar::REMINDER)?,
            meeting_status,
            categories,
            attendees,
            appointment_reply_time: e
                .optional_text_max(calendar::APPOINTMENT_REPLY_TIME, MAX_DATE)?,
            response_type: code(e, calendar::RESPONSE_TYPE, ResponseType::from_code)?,
            online_meeting_conf_link: e
                .optional_text_max(calendar::ONLINE_MEETING_CONF_LINK, MAX_TEXT)?,
            online_meeting_external_link: e
                .optional_text_max(calendar::ONLINE_MEETING_EXTERNAL_LINK, MAX_TEXT)?,
        })
    }

    /// Appends the properties for `version` (the version tables of MS-ASCAL 2.2.2).
    pub fn push(&self, version: ProtocolVersion, e: &mut Element) {
        let v14 = version >= ProtocolVersion::V14_0;
        let v141 = version >= ProtocolVersion::V14_1;
        let v16 = version >= ProtocolVersion::V16_0;
        e.push_opt_bool(calendar::ALL_DAY_EVENT, self.all_day_event);
        if let Some(body) = &self.body {
            let mut b = body.clone();
            if !v14 {
                b.preview = None;
            }
            e.push(b.to_element());
        }
        // Working elsewhere (4) is 16.0+ (MS-ASCAL 2.2.2.9); an older client gets Busy.
        let busy_status = self.busy_status.map(|b| match b {
            BusyStatus::WorkingElsewhere if !v16 => BusyStatus::Busy,
            b => b,
        });
        e.push_opt(calendar::BUSY_STATUS, busy_status.map(|b| b.code()))
            .push_opt(calendar::DT_STAMP, self.dt_stamp.as_deref())
            .push_opt(calendar::END_TIME, self.end_time.as_deref());
        match (&self.location, v16) {
            (Some(l), true) => {
                e.push(l.to_element());
            }
            (Some(l), false) => {
                e.push_opt(calendar::LOCATION, l.display_name.as_deref());
            }
            (None, _) => {}
        }
        e.push_opt(calendar::REMINDER, self.reminder)
            .push_opt(calendar::SENSITIVITY, self.sensitivity.map(|s| s.code()))
            .push_opt(calendar::SUBJECT, self.subject.as_deref())
            .push_opt(calendar::START_TIME, self.start_time.as_deref())
            .push_opt(
                calendar::MEETING_STATUS,
                self.meeting_status.map(MeetingStatus::code),
            );
        if let Some(attendees) = &self.attendees {
            let mut a = Element::new(calendar::ATTENDEES);
            for at in attendees {
                a.push(at.to_element(version));
            }
            e.push(a);
        }
        if let Some(categories) = &self.categories {
            let mut c = Element::new(calendar::CATEGORIES);
            for cat in categories {
                c.push_text(calendar::CATEGORY, cat.clone());
            }
            e.push(c);
        }
        if v14 {
            e.push_opt(
                calendar::APPOINTMENT_REPLY_TIME,
                self.appointment_reply_time.as_deref(),
            )
            .push_opt(
                calendar::RESPONSE_TYPE,
                self.response_type.map(|r| r.code()),
            );
        }
        if v141 {
            e.push_opt(
                calendar::ONLINE_MEETING_CONF_LINK,
                self.online_meeting_conf_link.as_deref(),
            )
            .push_opt(
                calendar::ONLINE_MEETING_EXTERNAL_LINK,
                self.online_meeting_external_link.as_deref(),
            );
        }
    }
}

impl Calendar {
    /// Reads an event from ApplicationData (Add or Change) or a Fetch's Properties.
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        let timezone = match e.child(calendar::TIMEZONE) {
            None => None,
            Some(t) => {
                let text = t.text().unwrap_or_default();
                Some(TimeZone::from_base64(&text).map_err(|_| {
                    invalid_value(calendar::TIMEZONE, &text, "not a TIMEZONE structure")
                })?)
            }
        };
        let exceptions = match e.child(calendar::EXCEPTIONS) {
            None => None,
            Some(x) => Some(bounded_list(x, calendar::EXCEPTION, Exception::parse)?),
        };
        Ok(Calendar {
            timezone,
            fields: EventFields::parse(e)?,
            organizer_name: e.optional_text_max(calendar::ORGANIZER_NAME, MAX_TEXT)?,
            organizer_email: e.optional_text_max(calendar::ORGANIZER_EMAIL, MAX_TEXT)?,
            uid: e.optional_text_max(calendar::UID, MAX_TEXT)?,
            recurrence: e
                .child(calendar::RECURRENCE)
                .map(Recurrence::parse)
                .transpose()?,
            exceptions,
            response_requested: e.optional_bool(calendar::RESPONSE_REQUESTED)?,
            disallow_new_time_proposal: e.optional_bool(calendar::DISALLOW_NEW_TIME_PROPOSAL)?,
            native_body_type: e
                .child(airsyncbase::NATIVE_BODY_TYPE)
                .map(BodyType::parse)
                .transpose()?,
            client_uid: e.optional_text_max(calendar::CLIENT_UID, MAX_TEXT)?,
        })
    }

    /// The event as Sync ApplicationData for `version`.
    pub fn to_application_data(&self, version: ProtocolVersion) -> Element {
        self.to_element_with_tag(airsync::APPLICATION_DATA, version)
    }

    /// The same properties under another parent (search:Properties,
    /// itemoperations:Properties).
    pub fn to_element_with_tag(&self, tag: Tag, version: ProtocolVersion) -> Element {
        let mut e = Element::new(tag);
        self.push_properties(version, &mut e);
        e
    }

    /// Appends the event's properties for `version`: DisallowNewTimeProposal,
    /// ResponseRequested, AppointmentReplyTime and ResponseType from 14.0, the online
    /// meeting links from 14.1, airsyncbase:Location and ClientUid from 16.0 (MS-ASCAL
    /// 2.2.2 version tables). A TIMEZONE that can't be written (a name over 32 units) is
    /// left out rather than sent broken.
    pub fn push_properties(&self, version: ProtocolVersion, e: &mut Element) {
        let v14 = version >= ProtocolVersion::V14_0;
        if let Some(tz) = self.timezone.as_ref().and_then(|t| t.to_base64().ok()) {
            e.push_text(calendar::TIMEZONE, tz);
        }
        self.fields.push(version, e);
        e.push_opt(calendar::ORGANIZER_NAME, self.organizer_name.as_deref())
            .push_opt(calendar::ORGANIZER_EMAIL, self.organizer_email.as_deref())
            .push_opt(calendar::UID, self.uid.as_deref());
        if let Some(r) = &self.recurrence {
            e.push(r.to_element(version));
        }
        if let Some(exceptions) = &self.exceptions {
            let mut x = Element::new(calendar::EXCEPTIONS);
            for ex in exceptions {
                x.push(ex.to_element(version));
            }
            e.push(x);
        }
        if v14 {
            e.push_opt_bool(
                calendar::DISALLOW_NEW_TIME_PROPOSAL,
                self.disallow_new_time_proposal,
            )
            .push_opt_bool(calendar::RESPONSE_REQUESTED, self.response_requested);
        }
        if let Some(t) = self.native_body_type {
            e.push(native_body_type_element(t));
        }
        if version >= ProtocolVersion::V16_0 {
            e.push_opt(calendar::CLIENT_UID, self.client_uid.as_deref());
        }
    }
}

fn bounded_list<T>(
    parent: &Element,
    tag: Tag,
    parse: impl Fn(&Element) -> Result<T, ParseError>,
) -> Result<Vec<T>, ParseError> {
    let mut out = Vec::new();
    for c in parent.children_with(tag) {
        if out.len() >= MAX_LIST {
            return Err(invalid_value(tag, "", "too many elements"));
        }
        out.push(parse(c)?);
    }
    Ok(out)
}

fn code<T>(
    parent: &Element,
    tag: Tag,
    from_code: fn(u8) -> Option<T>,
) -> Result<Option<T>, ParseError> {
    let Some(e) = parent.child(tag) else {
        return Ok(None);
    };
    let c: u8 = parse_value(e)?;
    from_code(c)
        .map(Some)
        .ok_or_else(|| invalid_value(tag, &c.to_string(), "not a value of this element"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::items::recurrence::{DaysOfWeek, RecurrenceType};
    use crate::values::SystemTime;

    fn berlin() -> TimeZone {
        TimeZone {
            bias: -60,
            standard_name: "W. Europe Standard Time".into(),
            standard_date: SystemTime {
                month: 10,
                day: 5,
                hour: 3,
                ..SystemTime::default()
            },
            daylight_name: "W. Europe Daylight Time".into(),
            daylight_date: SystemTime {
                month: 3,
                day: 5,
                hour: 2,
                ..SystemTime::default()
            },
            daylight_bias: -60,
            ..TimeZone::default()
        }
    }

    /// Every property set, as a 16.1 client could.
    pub(crate) fn full() -> Calendar {
        let mut attendee = Attendee::new("bob@example.com", "Bob Example");
        attendee.attendee_status = Some(AttendeeStatus::Tentative);
        attendee.attendee_type = Some(AttendeeType::Optional);
        attendee.proposed_start_time = Some("20261202T100000Z".into());
        attendee.proposed_end_time = Some("20261202T110000Z".into());
        let mut body = Body::new(BodyType::Plain, "Agenda: numbers.");
        body.preview = Some("Agenda".into());
        Calendar {
            timezone: Some(berlin()),
            fields: EventFields {
                subject: Some("Quarterly review".into()),
                start_time: Some("20261202T090000Z".into()),
                end_time: Some("20261202T100000Z".into()),
                dt_stamp: Some("20261125T120000Z".into()),
                all_day_event: Some(false),
                body: Some(body),
                location: Some(Location {
                    display_name: Some("Room 4".into()),
                    city: Some("Berlin".into()),
                    ..Location::default()
                }),
                busy_status: Some(BusyStatus::Busy),
                sensitivity: Some(Sensitivity::Private),
                reminder: Some(15),
                meeting_status: Some(MeetingStatus::MEETING_ORGANIZED),
                categories: Some(vec!["Work".into(), "Finance".into()]),
                attendees: Some(vec![attendee]),
                appointment_reply_time: Some("20261126T080000Z".into()),
                response_type: Some(ResponseType::Organizer),
                online_meeting_conf_link: Some("https://meet.example.com/c/1".into()),
                online_meeting_external_link: Some("https://meet.example.com/x/1".into()),
            },
            organizer_name: Some("Alice Example".into()),
            organizer_email: Some("alice@example.com".into()),
            uid: Some("040000008200E00074C5B7101A82E008".into()),
            recurrence: Some(Recurrence {
                interval: Some(1),
                day_of_week: Some(DaysOfWeek::WEDNESDAY),
                occurrences: Some(10),
                ..Recurrence::new(RecurrenceType::Weekly)
            }),
            exceptions: Some(vec![
                Exception {
                    deleted: Some(true),
                    exception_start_time: Some("20261209T090000Z".into()),
                    fields: EventFields::default(),
                },
                Exception {
                    deleted: None,
                    exception_start_time: Some("20261216T090000Z".into()),
                    fields: EventFields {
                        subject: Some("Quarterly review (moved)".into()),
                        start_time: Some("20261216T130000Z".into()),
                        end_time: Some("20261216T140000Z".into()),
                        ..EventFields::default()
                    },
                },
            ]),
            response_requested: Some(true),
            disallow_new_time_proposal: Some(false),
            native_body_type: Some(BodyType::Plain),
            client_uid: Some("client-7".into()),
        }
    }

    #[test]
    fn version_16_1_writes_everything_and_parses_back() {
        let e = full().to_application_data(ProtocolVersion::V16_1);
        assert!(e.child(airsyncbase::LOCATION).is_some());
        assert!(e.child(calendar::LOCATION).is_none());
        let ex = e.child(calendar::EXCEPTIONS).unwrap();
        assert!(ex
            .elements()
            .all(|x| x.child(airsyncbase::INSTANCE_ID).is_some()));
        assert_eq!(Calendar::parse(&e).unwrap(), full());
    }

    #[test]
    fn version_tables() {
        let v14 = Calendar::parse(&full().to_application_data(ProtocolVersion::V14_0)).unwrap();
        let mut want = full();
        want.client_uid = None;
        want.fields.online_meeting_conf_link = None;
        want.fields.online_meeting_external_link = None;
        want.fields.location = Some(Location {
            display_name: Some("Room 4".into()),
            ..Location::default()
        });
        for a in want.fields.attendees.iter_mut().flatten() {
            a.proposed_start_time = None;
            a.proposed_end_time = None;
        }
        want.recurrence.as_mut().unwrap().first_day_of_week = None;
        assert_eq!(v14, want);

        let e = full().to_application_data(ProtocolVersion::V14_0);
        assert_eq!(e.child_text(calendar::LOCATION).as_deref(), Some("Room 4"));
        let ex = e.child(calendar::EXCEPTIONS).unwrap();
        assert!(ex
            .elements()
            .all(|x| x.child(calendar::EXCEPTION_START_TIME).is_some()));

        let v12 = full().to_application_data(ProtocolVersion::V12_1);
        for tag in [
            calendar::RESPONSE_REQUESTED,
            calendar::DISALLOW_NEW_TIME_PROPOSAL,
            calendar::RESPONSE_TYPE,
            calendar::APPOINTMENT_REPLY_TIME,
        ] {
            assert!(v12.child(tag).is_none(), "{tag:?}");
        }
        assert!(v12
            .child(airsyncbase::BODY)
            .unwrap()
            .child(airsyncbase::PREVIEW)
            .is_none());
    }

    #[test]
    fn working_elsewhere_is_busy_before_16() {
        let mut c = full();
        c.fields.busy_status = Some(BusyStatus::WorkingElsewhere);
        let busy = |v| {
            c.to_application_data(v)
                .child_text(calendar::BUSY_STATUS)
                .unwrap()
        };
        assert_eq!(busy(ProtocolVersion::V14_1), "2");
        assert_eq!(busy(ProtocolVersion::V16_0), "4");
    }

    #[test]
    fn absent_and_empty_lists_differ() {
        let app = Element::new(airsync::APPLICATION_DATA)
            .with_text(calendar::SUBJECT, "x")
            .with(Element::new(calendar::CATEGORIES));
        let c = Calendar::parse(&app).unwrap();
        assert_eq!(c.fields.categories, Some(vec![]));
        assert_eq!(c.fields.attendees, None);
        assert_eq!(c.exceptions, None);
    }

    #[test]
    fn bad_values_are_errors() {
        for (tag, bad) in [
            (calendar::BUSY_STATUS, "5"),
            (calendar::SENSITIVITY, "4"),
            (calendar::MEETING_STATUS, "2"),
            (calendar::RESPONSE_TYPE, "6"),
            (calendar::REMINDER, "-1"),
            (calendar::ALL_DAY_EVENT, "yes"),
            (calendar::TIMEZONE, "AAAA"),
        ] {
            let app = Element::new(airsync::APPLICATION_DATA).with_text(tag, bad);
            assert!(
                matches!(Calendar::parse(&app), Err(ParseError::InvalidValue { .. })),
                "{tag:?} {bad}"
            );
        }
        let no_email = Element::new(airsync::APPLICATION_DATA).with(
            Element::new(calendar::ATTENDEES)
                .with(Element::new(calendar::ATTENDEE).with_text(calendar::NAME, "x")),
        );
        assert!(Calendar::parse(&no_email).is_err());
    }

    #[test]
    fn meeting_status_bits() {
        assert!(MeetingStatus::from_code(2).is_none());
        assert!(MeetingStatus::from_code(17).is_none());
        let s = MeetingStatus::from_code(7).unwrap();
        assert!(s.is_meeting() && s.is_received() && s.is_canceled());
        assert!(!MeetingStatus::APPOINTMENT.is_meeting());
    }
}
