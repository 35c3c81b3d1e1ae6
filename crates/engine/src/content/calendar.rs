//! Calendar items (MS-ASCAL, typed in `easd_protocol::items::calendar`) ⇄ iCalendar
//! (RFC 5545), the format events are stored in (ARCHITECTURE.md), parsed and written by
//! calcard.
//!
//! The rule: nothing a client sets is lost on a round trip. A field with an iCalendar
//! property goes there; one without goes into an X- property (X-EAS-*, or the Microsoft
//! names Outlook uses for the same thing). Where a property can be read two ways (the
//! TIMEZONE blob, the recurrence pattern), the client's original is kept in an X- property
//! and used again as long as the standard property still says the same thing; when
//! another editor changed the standard property, that wins.
//!
//! | EAS | iCalendar |
//! |---|---|
//! | StartTime, EndTime, Timezone | DTSTART, DTEND with TZID = `timezone::to_iana` of the blob (X-EAS-TIMEZONE keeps the blob) |
//! | AllDayEvent | DATE values (X-MICROSOFT-CDO-ALLDAYEVENT) |
//! | Subject, Location, Body | SUMMARY, LOCATION (GEO; a 16.x Location's other parts in X-EAS-LOCATION), DESCRIPTION (X-ALT-DESC for HTML) |
//! | BusyStatus | TRANSP and X-MICROSOFT-CDO-BUSYSTATUS |
//! | Sensitivity | CLASS (Personal: X-EAS-SENSITIVITY) |
//! | Reminder | VALARM with TRIGGER -PTnM |
//! | Categories | CATEGORIES |
//! | OrganizerName/Email, Attendees | ORGANIZER, ATTENDEE with CN, PARTSTAT, ROLE, CUTYPE |
//! | Recurrence | RRULE (`content::recurrence`) |
//! | Exceptions | EXDATE (deleted), VEVENTs with RECURRENCE-ID (modified) |
//! | DtStamp, UID | DTSTAMP, UID |
//! | MeetingStatus | STATUS:CANCELLED when canceled; X-EAS-MEETINGSTATUS |
//! | DisallowNewTimeProposal | X-MICROSOFT-DISALLOW-COUNTER |
//! | the others | X-EAS-<ELEMENT NAME> |

use crate::content::recurrence::{self, compact_datetime, Dtstart};
use crate::content::timezone::{from_iana, to_iana};
use crate::content::ChangeMode;
use crate::recipients::parse_eas_datetime;
use calcard::common::PartialDateTime;
use calcard::icalendar::{
    ICalendar, ICalendarAction, ICalendarClassification, ICalendarComponent,
    ICalendarComponentType, ICalendarDuration, ICalendarEntry, ICalendarParameter,
    ICalendarParameterName, ICalendarParameterValue, ICalendarParticipationRole,
    ICalendarParticipationStatus, ICalendarProperty, ICalendarStatus, ICalendarTransparency,
    ICalendarUserTypes, ICalendarValue, ICalendarValueType, Uri,
};
use easd_protocol::items::airsyncbase::{Body, BodyData, BodyType, Location};
use easd_protocol::items::calendar::{
    Attendee, AttendeeStatus, AttendeeType, BusyStatus, Calendar, EventFields, Exception,
    MeetingStatus, ResponseType, Sensitivity,
};
use easd_protocol::items::recurrence::Recurrence;
use easd_protocol::values::TimeZone as EasTimeZone;
use easd_wbxml::tags::{airsyncbase, calendar as cal};
use easd_wbxml::{xml, Tag};
use jiff::civil::{Date, DateTime};
use jiff::{tz, SignedDuration, Timestamp};

/// Why an event does not convert.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("the event has no StartTime or DTSTART")]
    MissingStart,
    #[error("{0} is not a valid date and time")]
    InvalidDate(&'static str),
    #[error("the iCalendar text is not a calendar")]
    NotICalendar,
    #[error("the calendar has no VEVENT")]
    NoEvent,
    #[error(transparent)]
    Recurrence(#[from] recurrence::RecurrenceError),
    #[error(transparent)]
    Zone(#[from] crate::content::timezone::ZoneRuleError),
}

const X_TIMEZONE: &str = "X-EAS-TIMEZONE";
const X_RECURRENCE: &str = "X-EAS-RECURRENCE";
const X_LOCATION: &str = "X-EAS-LOCATION";
const X_SENSITIVITY: &str = "X-EAS-SENSITIVITY";
pub(crate) const X_MEETING_STATUS: &str = "X-EAS-MEETINGSTATUS";
pub(crate) const X_RESPONSE_REQUESTED: &str = "X-EAS-RESPONSEREQUESTED";
pub(crate) const X_RESPONSE_TYPE: &str = "X-EAS-RESPONSETYPE";
pub(crate) const X_REPLY_TIME: &str = "X-EAS-APPOINTMENTREPLYTIME";
const X_CONF_LINK: &str = "X-EAS-ONLINEMEETINGCONFLINK";
const X_EXTERNAL_LINK: &str = "X-EAS-ONLINEMEETINGEXTERNALLINK";
const X_NATIVE_BODY_TYPE: &str = "X-EAS-NATIVEBODYTYPE";
const X_BODY_TYPE: &str = "X-EAS-BODYTYPE";
const X_CLIENT_UID: &str = "X-EAS-CLIENTUID";
const X_ORGANIZER_NAME: &str = "X-EAS-ORGANIZERNAME";
const X_ALL_DAY: &str = "X-MICROSOFT-CDO-ALLDAYEVENT";
pub(crate) const X_BUSY_STATUS: &str = "X-MICROSOFT-CDO-BUSYSTATUS";
const X_DISALLOW_COUNTER: &str = "X-MICROSOFT-DISALLOW-COUNTER";
const X_ALT_DESC: &str = "X-ALT-DESC";
pub(crate) const P_ATTENDEE_STATUS: &str = "X-EAS-ATTENDEESTATUS";
const P_PROPOSED_START: &str = "X-EAS-PROPOSEDSTARTTIME";
const P_PROPOSED_END: &str = "X-EAS-PROPOSEDENDTIME";

/// Properties of a VEVENT this module writes; the others of a stored event are kept by
/// [`apply_change`].
const OWNED: &[&str] = &[
    "DTSTART",
    "DTEND",
    "DURATION",
    "SUMMARY",
    "DESCRIPTION",
    "LOCATION",
    "GEO",
    "CLASS",
    "TRANSP",
    "STATUS",
    "CATEGORIES",
    "ATTENDEE",
    "ORGANIZER",
    "UID",
    "DTSTAMP",
    "RRULE",
    "EXDATE",
    "RECURRENCE-ID",
    X_ALT_DESC,
    X_ALL_DAY,
    X_BUSY_STATUS,
    X_DISALLOW_COUNTER,
];

// ---------------------------------------------------------------------------------------
// Small value helpers

fn parse_utc(text: &str, what: &'static str) -> Result<Timestamp, CalendarError> {
    parse_eas_datetime(text)
        .and_then(|t| Timestamp::from_second(t.unix_timestamp()).ok())
        .ok_or(CalendarError::InvalidDate(what))
}

pub(crate) fn text_value(s: impl Into<String>) -> ICalendarValue {
    ICalendarValue::Text(s.into())
}

pub(crate) fn entry(name: ICalendarProperty, value: ICalendarValue) -> ICalendarEntry {
    ICalendarEntry::new(name).with_value(value)
}

pub(crate) fn x_entry(name: &str, value: impl Into<String>) -> ICalendarEntry {
    entry(ICalendarProperty::Other(name.into()), text_value(value))
}

pub(crate) fn x_param(name: &str, value: impl Into<String>) -> ICalendarParameter {
    ICalendarParameter::new(
        ICalendarParameterName::Other(name.into()),
        ICalendarParameterValue::Text(value.into()),
    )
}

pub(crate) fn prop_name(p: &ICalendarProperty) -> String {
    match p {
        ICalendarProperty::Other(s) => s.to_ascii_uppercase(),
        other => other.as_str().to_ascii_uppercase(),
    }
}

pub(crate) fn value_string(v: &ICalendarValue) -> Option<String> {
    match v {
        ICalendarValue::Text(s) => Some(s.clone()),
        ICalendarValue::Uri(Uri::Location(s)) => Some(s.clone()),
        ICalendarValue::Integer(i) => Some(i.to_string()),
        ICalendarValue::Boolean(b) => Some(if *b { "TRUE" } else { "FALSE" }.into()),
        _ => None,
    }
}

pub(crate) fn param_text(e: &ICalendarEntry, name: &ICalendarParameterName) -> Option<String> {
    e.params
        .iter()
        .find(|p| p.name == *name)
        .and_then(|p| match &p.value {
            ICalendarParameterValue::Text(s) => Some(s.clone()),
            ICalendarParameterValue::Uri(Uri::Location(s)) => Some(s.clone()),
            _ => None,
        })
}

fn x_param_text(e: &ICalendarEntry, name: &str) -> Option<String> {
    e.params.iter().find_map(|p| match (&p.name, &p.value) {
        (ICalendarParameterName::Other(n), ICalendarParameterValue::Text(s))
            if n.eq_ignore_ascii_case(name) =>
        {
            Some(s.clone())
        }
        _ => None,
    })
}

/// A VEVENT's properties by name.
pub(crate) struct Props<'a>(pub(crate) &'a ICalendarComponent);

impl<'a> Props<'a> {
    pub(crate) fn all(&self, name: &'a str) -> impl Iterator<Item = &'a ICalendarEntry> + 'a {
        self.0
            .entries
            .iter()
            .filter(move |e| prop_name(&e.name) == name)
    }

    pub(crate) fn first(&self, name: &'a str) -> Option<&'a ICalendarEntry> {
        self.all(name).next()
    }

    pub(crate) fn text(&self, name: &'a str) -> Option<String> {
        self.first(name)
            .and_then(|e| e.values.first())
            .and_then(value_string)
    }

    pub(crate) fn code<T>(&self, name: &'a str, from_code: fn(u8) -> Option<T>) -> Option<T> {
        self.text(name)
            .and_then(|t| t.trim().parse().ok())
            .and_then(from_code)
    }

    fn flag(&self, name: &'a str) -> Option<bool> {
        self.text(name)
            .map(|t| t.trim().eq_ignore_ascii_case("TRUE"))
    }
}

fn bool_text(b: bool) -> &'static str {
    if b {
        "TRUE"
    } else {
        "FALSE"
    }
}

// ---------------------------------------------------------------------------------------
// Dates

/// How the event's dates are written: in `zone` (its IANA name as TZID; UTC or a zone
/// without a name as UTC), or as DATE values for an all-day event.
struct Placement {
    zone: tz::TimeZone,
    all_day: bool,
}

impl Placement {
    fn write(&self, at: Timestamp, name: ICalendarProperty) -> ICalendarEntry {
        let local = self.zone.to_datetime(at);
        let mut e = ICalendarEntry::new(name);
        if self.all_day {
            e.add_param(ICalendarParameter::value(ICalendarValueType::Date));
            return e.with_value(date_value(local.date()));
        }
        match self
            .zone
            .iana_name()
            .filter(|n| *n != "UTC" && *n != "Etc/UTC")
        {
            Some(name) => {
                e.add_param(ICalendarParameter::tzid(name.to_string()));
                e.with_value(datetime_value(local, false))
            }
            None => e.with_value(datetime_value(tz::Offset::UTC.to_datetime(at), true)),
        }
    }
}

impl Placement {
    /// DTEND: for an all-day event the midnight after a time that is not midnight, and at
    /// least the day after the start (an all-day event ends on midnight of the next day,
    /// MS-ASCAL 2.2.2.1).
    fn write_end(&self, start: Timestamp, end: Timestamp) -> ICalendarEntry {
        if !self.all_day {
            return self.write(end, ICalendarProperty::Dtend);
        }
        let first = self.zone.to_datetime(start).date();
        let local = self.zone.to_datetime(end);
        let mut day = local.date();
        if local.time() != jiff::civil::Time::midnight() {
            day = day.tomorrow().unwrap_or(day);
        }
        if day <= first {
            day = first.tomorrow().unwrap_or(first);
        }
        let mut e = ICalendarEntry::new(ICalendarProperty::Dtend);
        e.add_param(ICalendarParameter::value(ICalendarValueType::Date));
        e.with_value(date_value(day))
    }
}

fn date_value(d: Date) -> ICalendarValue {
    ICalendarValue::PartialDateTime(Box::new(PartialDateTime {
        year: Some(d.year() as u16),
        month: Some(d.month() as u8),
        day: Some(d.day() as u8),
        ..PartialDateTime::default()
    }))
}

pub(crate) fn datetime_value(dt: DateTime, utc: bool) -> ICalendarValue {
    ICalendarValue::PartialDateTime(Box::new(PartialDateTime {
        year: Some(dt.year() as u16),
        month: Some(dt.month() as u8),
        day: Some(dt.day() as u8),
        hour: Some(dt.hour() as u8),
        minute: Some(dt.minute() as u8),
        second: Some(dt.second() as u8),
        tz_hour: utc.then_some(0),
        tz_minute: utc.then_some(0),
        tz_minus: false,
    }))
}

/// A date or date-time property as read: the local date-time, whether it is a DATE, and
/// its zone (TZID, UTC or offset; `None` when floating).
struct ReadDate {
    local: DateTime,
    is_date: bool,
    zone: Option<tz::TimeZone>,
}

impl ReadDate {
    fn instant(&self, default_zone: &tz::TimeZone) -> Result<Timestamp, CalendarError> {
        self.zone
            .as_ref()
            .unwrap_or(default_zone)
            .to_ambiguous_timestamp(self.local)
            .compatible()
            .map_err(|_| CalendarError::InvalidDate("a date"))
    }
}

fn read_date(e: &ICalendarEntry, what: &'static str) -> Result<ReadDate, CalendarError> {
    let v = e.values.iter().find_map(|v| match v {
        ICalendarValue::PartialDateTime(p) => Some(p),
        _ => None,
    });
    read_partial(v.ok_or(CalendarError::InvalidDate(what))?, e, what)
}

fn read_partial(
    p: &PartialDateTime,
    e: &ICalendarEntry,
    what: &'static str,
) -> Result<ReadDate, CalendarError> {
    let bad = CalendarError::InvalidDate(what);
    let (Some(y), Some(mo), Some(d)) = (p.year, p.month, p.day) else {
        return Err(bad);
    };
    let date = Date::new(y as i16, mo as i8, d as i8).map_err(|_| bad.clone())?;
    let Some(h) = p.hour else {
        return Ok(ReadDate {
            local: date.to_datetime(jiff::civil::Time::midnight()),
            is_date: true,
            zone: None,
        });
    };
    // A leap second (60) is read as 59 (RFC 5545 3.3.12 allows it; jiff has none).
    let time = jiff::civil::Time::new(
        h as i8,
        p.minute.unwrap_or(0) as i8,
        p.second.unwrap_or(0).min(59) as i8,
        0,
    )
    .map_err(|_| bad.clone())?;
    let local = date.to_datetime(time);
    let zone = if let Some(th) = p.tz_hour {
        let secs = i32::from(th) * 3600 + i32::from(p.tz_minute.unwrap_or(0)) * 60;
        Some(tz::TimeZone::fixed(
            tz::Offset::from_seconds(if p.tz_minus { -secs } else { secs }).map_err(|_| bad)?,
        ))
    } else {
        param_text(e, &ICalendarParameterName::Tzid).and_then(|id| zone_named(&id))
    };
    Ok(ReadDate {
        local,
        is_date: false,
        zone,
    })
}

/// The zone a TZID names: an IANA name, or a Windows name (Outlook and Exchange write
/// "W. Europe Standard Time") or a vendor-prefixed one ("/mozilla.org/.../Europe/Berlin")
/// as calcard maps them; RFC 5545 3.2.19 leaves the TZID's text to the writer.
fn zone_named(id: &str) -> Option<tz::TimeZone> {
    tz::TimeZone::get(id.trim_start_matches('/'))
        .ok()
        .or_else(|| {
            let name = id.parse::<calcard::common::timezone::Tz>().ok()?.name()?;
            tz::TimeZone::get(&name).ok()
        })
}

/// A copy of `ical` whose TZIDs that no name maps (Outlook's "Customized Time Zone", a
/// calendar's own names) name instead the IANA zone their VTIMEZONE describes: by its
/// X-LIC-LOCATION or X-MICROSOFT-CDO-TZID (as calcard reads them), else by its rules
/// (RFC 5545 3.6.5: the latest STANDARD and DAYLIGHT observances). None when no TZID needs
/// it or none of them can be placed.
fn with_defined_zones(ical: &ICalendar) -> Option<ICalendar> {
    let mut renames: Vec<(String, String)> = Vec::new();
    for c in ical
        .components
        .iter()
        .filter(|c| c.component_type == ICalendarComponentType::VTimezone)
    {
        let Some(id) = Props(c).text("TZID") else {
            continue;
        };
        if zone_named(&id).is_some() {
            continue;
        }
        let iana = c
            .timezone()
            .and_then(|(_, z)| z.name())
            .map(|n| n.into_owned())
            .or_else(|| {
                let blob = vtimezone_blob(ical, c)?;
                let year = tz::Offset::UTC.to_datetime(Timestamp::now()).year();
                to_iana(&blob, year).ok()?.iana_name().map(str::to_owned)
            });
        if let Some(iana) = iana.filter(|n| zone_named(n).is_some()) {
            renames.push((id, iana));
        }
    }
    if renames.is_empty() {
        return None;
    }
    let mut out = ical.clone();
    let mut changed = false;
    for c in &mut out.components {
        for e in &mut c.entries {
            for p in &mut e.params {
                if let (ICalendarParameterName::Tzid, ICalendarParameterValue::Text(id)) =
                    (&p.name, &mut p.value)
                {
                    if let Some((_, iana)) = renames.iter().find(|(from, _)| from == id) {
                        id.clone_from(iana);
                        changed = true;
                    }
                }
            }
        }
    }
    // The VTIMEZONE keeps its TZID: with no parameter left to rename, the copy is final.
    changed.then_some(out)
}

/// A VTIMEZONE's yearly rules as an EAS TIMEZONE blob (MS-ASDTYPE 2.7): the offsets of its
/// latest STANDARD and DAYLIGHT observances, and their RRULEs' month and n-th weekday
/// (BYMONTH, BYDAY; -1 is the last, week 5) at their DTSTART's time.
fn vtimezone_blob(ical: &ICalendar, vtz: &ICalendarComponent) -> Option<EasTimeZone> {
    use easd_protocol::values::SystemTime;
    struct Observance {
        start: DateTime,
        offset_minutes: i32,
        rule: Option<SystemTime>,
    }
    let read = |c: &ICalendarComponent| -> Option<Observance> {
        let p = Props(c);
        let start = read_date(p.first("DTSTART")?, "DTSTART").ok()?.local;
        let offset = p.first("TZOFFSETTO")?.values.iter().find_map(|v| match v {
            ICalendarValue::PartialDateTime(d) => Some(d),
            _ => None,
        })?;
        let minutes = i32::from(offset.tz_hour?) * 60 + i32::from(offset.tz_minute.unwrap_or(0));
        let rule = p.first("RRULE").and_then(|e| match e.values.first() {
            Some(ICalendarValue::RecurrenceRule(r)) => {
                let day = r.byday.first()?;
                let week = match day.ordwk? {
                    -1 => 5,
                    n @ 1..=4 => n as u16,
                    _ => return None,
                };
                Some(SystemTime {
                    year: 0,
                    month: u16::from(r.bymonth.first()?.month()),
                    day_of_week: day.weekday as u16,
                    day: week,
                    hour: start.hour() as u16,
                    minute: start.minute() as u16,
                    second: start.second() as u16,
                    milliseconds: 0,
                })
            }
            _ => None,
        });
        Some(Observance {
            start,
            offset_minutes: if offset.tz_minus { -minutes } else { minutes },
            rule,
        })
    };
    let latest = |kind: ICalendarComponentType| {
        vtz.component_ids
            .iter()
            .filter_map(|&i| ical.components.get(i as usize))
            .filter(|c| c.component_type == kind)
            .filter_map(read)
            .max_by_key(|o| o.start)
    };
    let standard = latest(ICalendarComponentType::Standard)?;
    let mut blob = EasTimeZone {
        bias: -standard.offset_minutes,
        ..EasTimeZone::default()
    };
    if let Some(daylight) = latest(ICalendarComponentType::Daylight) {
        blob.standard_date = standard.rule?;
        blob.daylight_date = daylight.rule?;
        blob.daylight_bias = -(daylight.offset_minutes - standard.offset_minutes);
    }
    Some(blob)
}

// ---------------------------------------------------------------------------------------
// EAS → iCalendar

/// The event as an iCalendar object: a VCALENDAR with the event's VEVENT and one VEVENT
/// per modified occurrence (RFC 5545 3.8.4.4 RECURRENCE-ID).
pub fn to_ical(c: &Calendar) -> Result<ICalendar, CalendarError> {
    let (start, end) = start_and_end(c)?;
    let all_day = c.fields.all_day_event == Some(true);
    // The rules of the start's year (the blob describes one pair of yearly rules).
    let year = tz::Offset::UTC.to_datetime(start).year();
    let zone = match &c.timezone {
        Some(blob) => to_iana(blob, year)?,
        None => tz::TimeZone::UTC,
    };
    let place = Placement { zone, all_day };

    let mut ical = ICalendar {
        components: vec![ICalendarComponent::new(ICalendarComponentType::VCalendar)],
    };
    ical.components[0].entries = vec![
        x_entry_std(ICalendarProperty::Version, "2.0"),
        x_entry_std(
            ICalendarProperty::Prodid,
            "-//easd//Exchange ActiveSync//EN",
        ),
    ];

    let mut master = ICalendarComponent::new(ICalendarComponentType::VEvent);
    let m = &mut master.entries;
    if let Some(uid) = &c.uid {
        m.push(entry(ICalendarProperty::Uid, text_value(uid.clone())));
    }
    if let Some(stamp) = &c.fields.dt_stamp {
        let at = parse_utc(stamp, "DtStamp")?;
        m.push(entry(
            ICalendarProperty::Dtstamp,
            datetime_value(tz::Offset::UTC.to_datetime(at), true),
        ));
    }
    m.push(place.write(start, ICalendarProperty::Dtstart));
    m.push(place.write_end(start, end));
    if let Some(text) = c.timezone.as_ref().and_then(|b| b.to_base64().ok()) {
        m.push(x_entry(X_TIMEZONE, text));
    }
    if let Some(r) = &c.recurrence {
        let dtstart = Dtstart {
            local: place.zone.to_datetime(start),
            zone: place.zone.clone(),
            all_day,
        };
        // A pattern RRULE can't carry (a lunar calendar) is kept only as the X- property.
        if let Ok(rule) = recurrence::to_rrule(r, &dtstart) {
            m.push(entry(
                ICalendarProperty::Rrule,
                ICalendarValue::RecurrenceRule(Box::new(rule)),
            ));
        }
        m.push(x_entry(
            X_RECURRENCE,
            xml::to_xml(&r.to_element(easd_protocol::ProtocolVersion::V16_1)),
        ));
    }
    if let (Some(name), None) = (&c.organizer_name, &c.organizer_email) {
        m.push(x_entry(X_ORGANIZER_NAME, name.clone()));
    }
    if let Some(email) = &c.organizer_email {
        let mut e = entry(
            ICalendarProperty::Organizer,
            ICalendarValue::Uri(Uri::Location(format!("mailto:{email}"))),
        );
        if let Some(name) = c.organizer_name.as_deref().filter(|n| !n.is_empty()) {
            e.add_param(ICalendarParameter::cn(name.to_string()));
        }
        m.push(e);
    }
    if let Some(v) = c.response_requested {
        m.push(x_entry(X_RESPONSE_REQUESTED, bool_text(v)));
    }
    if let Some(v) = c.disallow_new_time_proposal {
        m.push(x_entry(X_DISALLOW_COUNTER, bool_text(v)));
    }
    if let Some(t) = c.native_body_type {
        m.push(x_entry(X_NATIVE_BODY_TYPE, t.to_string()));
    }
    if let Some(u) = &c.client_uid {
        m.push(x_entry(X_CLIENT_UID, u.clone()));
    }
    let alarm = write_fields(&c.fields, &mut master.entries)?;
    let mut events = vec![(master, alarm)];

    let duration = end.duration_since(start);
    for ex in c.exceptions.iter().flatten() {
        let Some(original) = ex.exception_start_time.as_deref() else {
            continue;
        };
        let original = parse_utc(original, "ExceptionStartTime")?;
        if ex.deleted == Some(true) {
            events[0]
                .0
                .entries
                .push(place.write(original, ICalendarProperty::Exdate));
            continue;
        }
        // An override stands alone (RFC 5545 3.8.4.4): the series' values where the
        // exception has none.
        let mut fields = overlay(&c.fields, &ex.fields);
        if ex.fields.start_time.is_none() {
            fields.start_time = Some(compact_datetime(original));
        }
        if ex.fields.end_time.is_none() {
            let s = parse_utc(
                fields.start_time.as_deref().unwrap_or_default(),
                "StartTime",
            )?;
            fields.end_time = Some(compact_datetime(
                s.checked_add(duration)
                    .map_err(|_| CalendarError::InvalidDate("EndTime"))?,
            ));
        }
        let ex_place = Placement {
            zone: place.zone.clone(),
            all_day: fields.all_day_event == Some(true),
        };
        let mut o = ICalendarComponent::new(ICalendarComponentType::VEvent);
        if let Some(uid) = &c.uid {
            o.entries
                .push(entry(ICalendarProperty::Uid, text_value(uid.clone())));
        }
        o.entries
            .push(place.write(original, ICalendarProperty::RecurrenceId));
        let s = parse_utc(
            fields.start_time.as_deref().unwrap_or_default(),
            "StartTime",
        )?;
        let e = parse_utc(fields.end_time.as_deref().unwrap_or_default(), "EndTime")?;
        o.entries
            .push(ex_place.write(s, ICalendarProperty::Dtstart));
        o.entries.push(ex_place.write_end(s, e));
        if let Some(stamp) = &fields.dt_stamp {
            let at = parse_utc(stamp, "DtStamp")?;
            o.entries.push(entry(
                ICalendarProperty::Dtstamp,
                datetime_value(tz::Offset::UTC.to_datetime(at), true),
            ));
        }
        let alarm = write_fields(&fields, &mut o.entries)?;
        events.push((o, alarm));
    }

    for (event, alarm) in events {
        let id = ical.components.len() as u32;
        ical.components[0].component_ids.push(id);
        ical.components.push(event);
        if let Some(a) = alarm {
            let aid = ical.components.len() as u32;
            ical.components[id as usize].component_ids.push(aid);
            ical.components.push(a);
        }
    }
    // Each TZID needs its VTIMEZONE (RFC 5545 3.2.19); calcard writes it from its tz
    // database for the span of the event and its recurrence.
    ical.add_missing_timezones();
    Ok(ical)
}

fn x_entry_std(name: ICalendarProperty, value: &str) -> ICalendarEntry {
    entry(name, text_value(value))
}

/// The series' fields with an exception's on top.
fn overlay(series: &EventFields, ex: &EventFields) -> EventFields {
    macro_rules! pick {
        ($($f:ident),*) => { EventFields { $( $f: ex.$f.clone().or_else(|| series.$f.clone()), )* } };
    }
    pick!(
        subject,
        start_time,
        end_time,
        dt_stamp,
        all_day_event,
        body,
        location,
        busy_status,
        sensitivity,
        reminder,
        meeting_status,
        categories,
        attendees,
        appointment_reply_time,
        response_type,
        online_meeting_conf_link,
        online_meeting_external_link
    )
}

/// Writes the overridable fields (all but the dates, which need the event's placement);
/// returns the VALARM for Reminder.
fn write_fields(
    f: &EventFields,
    m: &mut Vec<ICalendarEntry>,
) -> Result<Option<ICalendarComponent>, CalendarError> {
    if let Some(all_day) = f.all_day_event {
        m.push(x_entry(X_ALL_DAY, bool_text(all_day)));
    }
    if let Some(s) = &f.subject {
        m.push(entry(ICalendarProperty::Summary, text_value(s.clone())));
    }
    if let Some(loc) = &f.location {
        if let Some(name) = &loc.display_name {
            m.push(entry(ICalendarProperty::Location, text_value(name.clone())));
        }
        let only_name = Location {
            display_name: loc.display_name.clone(),
            ..Location::default()
        };
        if *loc != only_name {
            m.push(x_entry(X_LOCATION, xml::to_xml(&loc.to_element())));
        }
        if let (Some(lat), Some(lon)) = (loc.latitude, loc.longitude) {
            m.push(
                ICalendarEntry::new(ICalendarProperty::Geo)
                    .with_values(vec![ICalendarValue::Float(lat), ICalendarValue::Float(lon)]),
            );
        }
    }
    if let Some(body) = &f.body {
        let text = body
            .data
            .as_ref()
            .map(BodyData::to_text)
            .unwrap_or_default();
        match body.body_type {
            BodyType::Html => {
                let plain = html2text::from_read(text.as_bytes(), 78).unwrap_or_default();
                m.push(entry(ICalendarProperty::Description, text_value(plain)));
                m.push(
                    x_entry(X_ALT_DESC, text)
                        .with_param(ICalendarParameter::fmttype("text/html".to_string())),
                );
            }
            BodyType::Plain => {
                m.push(entry(ICalendarProperty::Description, text_value(text)));
            }
            other => {
                m.push(entry(ICalendarProperty::Description, text_value(text)));
                m.push(x_entry(X_BODY_TYPE, other.to_string()));
            }
        }
    }
    if let Some(b) = f.busy_status {
        let transp = if b == BusyStatus::Free {
            ICalendarTransparency::Transparent
        } else {
            ICalendarTransparency::Opaque
        };
        m.push(entry(
            ICalendarProperty::Transp,
            ICalendarValue::Transparency(transp),
        ));
        m.push(x_entry(X_BUSY_STATUS, busy_name(b)));
    }
    if let Some(s) = f.sensitivity {
        let class = match s {
            Sensitivity::Normal => ICalendarClassification::Public,
            Sensitivity::Personal | Sensitivity::Private => ICalendarClassification::Private,
            Sensitivity::Confidential => ICalendarClassification::Confidential,
        };
        m.push(entry(
            ICalendarProperty::Class,
            ICalendarValue::Classification(class),
        ));
        if s == Sensitivity::Personal {
            m.push(x_entry(X_SENSITIVITY, s.code().to_string()));
        }
    }
    if let Some(ms) = f.meeting_status {
        if ms.is_canceled() {
            m.push(entry(
                ICalendarProperty::Status,
                ICalendarValue::Status(ICalendarStatus::Cancelled),
            ));
        }
        m.push(x_entry(X_MEETING_STATUS, ms.code().to_string()));
    }
    if let Some(cats) = f.categories.as_ref().filter(|c| !c.is_empty()) {
        m.push(
            ICalendarEntry::new(ICalendarProperty::Categories)
                // calcard escapes line breaks in single text values only; a raw one in a
                // list would end the line and start a property of the client's making.
                .with_values(
                    cats.iter()
                        .map(|c| text_value(c.replace(['\r', '\n'], " ")))
                        .collect(),
                ),
        );
    }
    for a in f.attendees.iter().flatten() {
        m.push(attendee_entry(a));
    }
    if let Some(t) = &f.appointment_reply_time {
        m.push(x_entry(X_REPLY_TIME, t.clone()));
    }
    if let Some(r) = f.response_type {
        m.push(x_entry(X_RESPONSE_TYPE, r.code().to_string()));
    }
    if let Some(l) = &f.online_meeting_conf_link {
        m.push(x_entry(X_CONF_LINK, l.clone()));
    }
    if let Some(l) = &f.online_meeting_external_link {
        m.push(x_entry(X_EXTERNAL_LINK, l.clone()));
    }
    Ok(f.reminder.map(|minutes| {
        let mut a = ICalendarComponent::new(ICalendarComponentType::VAlarm);
        a.entries = vec![
            entry(
                ICalendarProperty::Action,
                ICalendarValue::Action(ICalendarAction::Display),
            ),
            entry(
                ICalendarProperty::Trigger,
                ICalendarValue::Duration(ICalendarDuration {
                    neg: minutes > 0,
                    minutes,
                    ..ICalendarDuration::default()
                }),
            ),
            entry(ICalendarProperty::Description, text_value("Reminder")),
        ];
        a
    }))
}

pub(crate) fn busy_name(b: BusyStatus) -> &'static str {
    match b {
        BusyStatus::Free => "FREE",
        BusyStatus::Tentative => "TENTATIVE",
        BusyStatus::Busy => "BUSY",
        BusyStatus::OutOfOffice => "OOF",
        BusyStatus::WorkingElsewhere => "WORKINGELSEWHERE",
    }
}

/// ATTENDEE (RFC 5545 3.8.4.1): AttendeeStatus as PARTSTAT (2 TENTATIVE, 3 ACCEPTED, 4
/// DECLINED, 5 NEEDS-ACTION; 0 "unknown" has no PARTSTAT and is kept in an X- parameter),
/// AttendeeType as ROLE (1 REQ-PARTICIPANT, 2 OPT-PARTICIPANT) or CUTYPE=RESOURCE (3).
fn attendee_entry(a: &Attendee) -> ICalendarEntry {
    let mut e = entry(
        ICalendarProperty::Attendee,
        ICalendarValue::Uri(Uri::Location(format!("mailto:{}", a.email))),
    );
    if !a.name.is_empty() {
        e.add_param(ICalendarParameter::cn(a.name.clone()));
    }
    match a.attendee_status {
        None => {}
        Some(AttendeeStatus::ResponseUnknown) => e.add_param(x_param(P_ATTENDEE_STATUS, "0")),
        Some(s) => e.add_param(ICalendarParameter::partstat(match s {
            AttendeeStatus::Tentative => ICalendarParticipationStatus::Tentative,
            AttendeeStatus::Accept => ICalendarParticipationStatus::Accepted,
            AttendeeStatus::Decline => ICalendarParticipationStatus::Declined,
            _ => ICalendarParticipationStatus::NeedsAction,
        })),
    }
    match a.attendee_type {
        None => {}
        Some(AttendeeType::Required) => e.add_param(ICalendarParameter::role(
            ICalendarParticipationRole::ReqParticipant,
        )),
        Some(AttendeeType::Optional) => e.add_param(ICalendarParameter::role(
            ICalendarParticipationRole::OptParticipant,
        )),
        Some(AttendeeType::Resource) => {
            e.add_param(ICalendarParameter::cutype(ICalendarUserTypes::Resource))
        }
    }
    if let Some(t) = &a.proposed_start_time {
        e.add_param(x_param(P_PROPOSED_START, t.clone()));
    }
    if let Some(t) = &a.proposed_end_time {
        e.add_param(x_param(P_PROPOSED_END, t.clone()));
    }
    e
}

/// StartTime and EndTime (EndTime absent: a moment).
fn start_and_end(c: &Calendar) -> Result<(Timestamp, Timestamp), CalendarError> {
    let start = parse_utc(
        c.fields
            .start_time
            .as_deref()
            .ok_or(CalendarError::MissingStart)?,
        "StartTime",
    )?;
    let end = match c.fields.end_time.as_deref() {
        Some(t) => parse_utc(t, "EndTime")?,
        None => start,
    };
    Ok((start, end))
}

/// The instants an event spans: its start, and the end of its last occurrence (`None`
/// for a pattern without end). Sync's calendar FilterType keeps an event while that end
/// is in the window (MS-ASCMD 2.2.3.69.2: a past window for the calendar).
pub fn span(c: &Calendar) -> Result<(Timestamp, Option<Timestamp>), CalendarError> {
    let (start, end) = start_and_end(c)?;
    let end = end.max(start);
    let Some(r) = &c.recurrence else {
        return Ok((start, Some(end)));
    };
    if r.occurrences.is_none() && r.until.is_none() {
        return Ok((start, None));
    }
    let year = tz::Offset::UTC.to_datetime(start).year();
    let zone = match &c.timezone {
        Some(blob) => to_iana(blob, year)?,
        None => tz::TimeZone::UTC,
    };
    let dtstart = Dtstart {
        local: zone.to_datetime(start),
        zone,
        all_day: c.fields.all_day_event == Some(true),
    };
    let duration = end.duration_since(start);
    // Until or Occurrences ends the pattern; 200 years bounds the walk of a far Until.
    let horizon = start
        .checked_add(SignedDuration::from_hours(24 * 366 * 200))
        .unwrap_or(start);
    let last = recurrence::expand(r, &dtstart, duration, start, horizon)?
        .last()
        .map(|o| o.start.checked_add(duration).unwrap_or(o.start))
        .unwrap_or(end);
    Ok((start, Some(last.max(end))))
}

/// The event as iCalendar text.
pub fn to_ics(c: &Calendar) -> Result<String, CalendarError> {
    Ok(to_ical(c)?.to_string())
}

// ---------------------------------------------------------------------------------------
// iCalendar → EAS

/// Parses iCalendar text and reads its event (see [`from_ical`]).
pub fn from_ics(text: &str, zone: &tz::TimeZone) -> Result<Calendar, CalendarError> {
    let ical = ICalendar::parse(text).map_err(|_| CalendarError::NotICalendar)?;
    from_ical(&ical, zone)
}

/// The event of an iCalendar object, for a device in `zone` (the zone all-day and
/// floating events are placed in: an all-day event is midnight to midnight of its dates
/// in the device's zone, so it stays on its day wherever it was created; MS-ASCAL
/// 2.2.2.1 AllDayEvent). The first VEVENT without RECURRENCE-ID is the event; VEVENTs
/// with its UID and a RECURRENCE-ID are its modified occurrences.
pub fn from_ical(ical: &ICalendar, zone: &tz::TimeZone) -> Result<Calendar, CalendarError> {
    if let Some(renamed) = with_defined_zones(ical) {
        return from_ical(&renamed, zone);
    }
    let events: Vec<&ICalendarComponent> = ical
        .components
        .iter()
        .filter(|c| c.component_type == ICalendarComponentType::VEvent)
        .collect();
    let master = events
        .iter()
        .find(|e| Props(e).first("RECURRENCE-ID").is_none())
        .or(events.first())
        .copied()
        .ok_or(CalendarError::NoEvent)?;
    let p = Props(master);
    let uid = p.text("UID");

    let dtstart = read_date(
        p.first("DTSTART").ok_or(CalendarError::MissingStart)?,
        "DTSTART",
    )?;
    let all_day = dtstart.is_date;
    let event_zone = match (&dtstart.zone, all_day) {
        (Some(z), false) => z.clone(),
        _ => zone.clone(),
    };
    let start = dtstart.instant(&event_zone)?;
    let end = read_end(&p, start, all_day, &event_zone)?;
    let local_start = event_zone.to_datetime(start);
    let year = local_start.year();

    let stored_blob = p
        .text(X_TIMEZONE)
        .and_then(|t| EasTimeZone::from_base64(&t).ok());
    let timezone = match stored_blob {
        Some(blob) if blob_fits(&blob, &event_zone, year, &dtstart) => blob,
        _ => from_iana(&event_zone, year)?,
    };
    let place = Dtstart {
        local: local_start,
        zone: event_zone.clone(),
        all_day,
    };
    let recurrence = read_recurrence(&p, &place);

    let mut fields = read_fields(master, ical)?;
    fields.start_time = Some(compact_datetime(start));
    fields.end_time = Some(compact_datetime(end));
    if all_day && fields.all_day_event.is_none() {
        fields.all_day_event = Some(true);
    }

    let mut exceptions = Vec::new();
    for e in p.all("EXDATE") {
        for v in &e.values {
            if let ICalendarValue::PartialDateTime(d) = v {
                let at = occurrence_instant(&read_partial(d, e, "EXDATE")?, &place)?;
                exceptions.push(Exception {
                    deleted: Some(true),
                    exception_start_time: Some(compact_datetime(at)),
                    fields: EventFields::default(),
                });
            }
        }
    }
    for o in &events {
        let op = Props(o);
        let Some(rid) = op.first("RECURRENCE-ID") else {
            continue;
        };
        if op.text("UID") != uid {
            continue;
        }
        let original = occurrence_instant(&read_date(rid, "RECURRENCE-ID")?, &place)?;
        let mut f = read_fields(o, ical)?;
        let o_start = match op.first("DTSTART") {
            Some(d) => {
                let d = read_date(d, "DTSTART")?;
                d.instant(if d.is_date { zone } else { &event_zone })?
            }
            None => original,
        };
        let o_end = read_end(&op, o_start, all_day, &event_zone)?;
        // MS-ASCAL 2.2.2.42: an Exception without StartTime has the series' StartTime,
        // so a modified occurrence always names its own times (EndTime likewise, 2.2.2.20).
        f.start_time = Some(compact_datetime(o_start));
        f.end_time = Some(compact_datetime(o_end));
        exceptions.push(Exception {
            deleted: None,
            exception_start_time: Some(compact_datetime(original)),
            fields: difference(&fields, f),
        });
    }
    exceptions.sort_by(|a, b| a.exception_start_time.cmp(&b.exception_start_time));

    let (organizer_email, organizer_name) = match p.first("ORGANIZER") {
        Some(o) => (
            o.values.first().and_then(value_string).map(strip_mailto),
            param_text(o, &ICalendarParameterName::Cn),
        ),
        None => (None, p.text(X_ORGANIZER_NAME)),
    };

    Ok(Calendar {
        timezone: Some(timezone),
        fields,
        organizer_name,
        organizer_email,
        uid,
        recurrence,
        exceptions: (!exceptions.is_empty()).then_some(exceptions),
        response_requested: p.flag(X_RESPONSE_REQUESTED),
        disallow_new_time_proposal: p.flag(X_DISALLOW_COUNTER),
        native_body_type: p.code(X_NATIVE_BODY_TYPE, BodyType::from_code),
        client_uid: p.text(X_CLIENT_UID),
    })
}

/// The client's blob is kept while it describes the event's zone in the event's year
/// (the same offsets and transitions), or, for an event written in UTC because no IANA
/// zone has the blob's rules, while the event is still in UTC.
fn blob_fits(blob: &EasTimeZone, zone: &tz::TimeZone, year: i16, start: &ReadDate) -> bool {
    let Ok(blob_zone) = to_iana(blob, year) else {
        return false;
    };
    let rules = |z: &tz::TimeZone| {
        from_iana(z, year).map(|b| {
            (
                b.bias + b.standard_bias,
                b.bias + b.daylight_bias,
                b.standard_date,
                b.daylight_date,
            )
        })
    };
    if blob_zone.iana_name().is_none() && !start.is_date {
        return start
            .zone
            .as_ref()
            .is_some_and(|z| z.to_fixed_offset().is_ok_and(|o| o == tz::Offset::UTC));
    }
    matches!((rules(&blob_zone), rules(zone)), (Ok(a), Ok(b)) if a == b)
}

/// DTEND, or DTSTART + DURATION, or the start (a day later for an all-day event; RFC 5545
/// 3.6.1).
fn read_end(
    p: &Props,
    start: Timestamp,
    all_day: bool,
    zone: &tz::TimeZone,
) -> Result<Timestamp, CalendarError> {
    if let Some(e) = p.first("DTEND") {
        let d = read_date(e, "DTEND")?;
        return d.instant(zone);
    }
    let duration = p.first("DURATION").and_then(|e| match e.values.first() {
        Some(ICalendarValue::Duration(d)) => Some(d.clone()),
        _ => None,
    });
    let span = match duration {
        Some(d) => {
            let secs = i64::from(d.weeks) * 604_800
                + i64::from(d.days) * 86_400
                + i64::from(d.hours) * 3600
                + i64::from(d.minutes) * 60
                + i64::from(d.seconds);
            SignedDuration::from_secs(if d.neg { -secs } else { secs })
        }
        None if all_day => SignedDuration::from_hours(24),
        None => SignedDuration::ZERO,
    };
    start
        .checked_add(span)
        .map_err(|_| CalendarError::InvalidDate("DTEND"))
}

/// The instant of an occurrence named by EXDATE or RECURRENCE-ID: a DATE is that day at
/// the event's time of day in its zone (midnight for an all-day event).
fn occurrence_instant(d: &ReadDate, start: &Dtstart) -> Result<Timestamp, CalendarError> {
    let local = if d.is_date {
        d.local.date().to_datetime(start.local.time())
    } else {
        d.local
    };
    ReadDate {
        local,
        is_date: d.is_date,
        zone: if d.is_date { None } else { d.zone.clone() },
    }
    .instant(&start.zone)
}

/// The client's pattern (X-EAS-RECURRENCE) while the RRULE is still what it wrote, else
/// the RRULE's pattern; a pattern without RRULE (lunar) as it came.
fn read_recurrence(p: &Props, start: &Dtstart) -> Option<Recurrence> {
    let original = p
        .text(X_RECURRENCE)
        .and_then(|x| xml::from_xml(&x).ok())
        .and_then(|e| Recurrence::parse(&e).ok());
    let rule = p.first("RRULE").and_then(|e| match e.values.first() {
        Some(ICalendarValue::RecurrenceRule(r)) => Some(r.as_ref().clone()),
        _ => None,
    });
    match (original, rule) {
        (Some(o), Some(rule)) if recurrence::to_rrule(&o, start).is_ok_and(|r| r == rule) => {
            Some(o)
        }
        (_, Some(rule)) => recurrence::from_rrule(&rule, start).ok(),
        (Some(o), None) if recurrence::to_rrule(&o, start).is_err() => Some(o),
        (_, None) => None,
    }
}

/// An exception's fields: those that differ from the series'.
fn difference(series: &EventFields, ex: EventFields) -> EventFields {
    macro_rules! diff {
        ($($f:ident),*) => { EventFields {
            start_time: ex.start_time, end_time: ex.end_time,
            $( $f: if ex.$f == series.$f { None } else { ex.$f }, )*
        } };
    }
    diff!(
        subject,
        dt_stamp,
        all_day_event,
        body,
        location,
        busy_status,
        sensitivity,
        reminder,
        meeting_status,
        categories,
        attendees,
        appointment_reply_time,
        response_type,
        online_meeting_conf_link,
        online_meeting_external_link
    )
}

pub(crate) fn strip_mailto(s: String) -> String {
    match s.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("mailto:") => s[7..].to_string(),
        _ => s,
    }
}

/// The overridable fields of a VEVENT (not its dates).
fn read_fields(c: &ICalendarComponent, ical: &ICalendar) -> Result<EventFields, CalendarError> {
    let p = Props(c);
    let location = p.text("LOCATION").map(|name| {
        let full = p
            .text(X_LOCATION)
            .and_then(|x| xml::from_xml(&x).ok())
            .and_then(|e| Location::parse(&e).ok())
            .filter(|l| l.display_name.as_deref() == Some(name.as_str()));
        full.unwrap_or_else(|| {
            let geo = p.first("GEO").map(|g| {
                let f: Vec<f64> = g
                    .values
                    .iter()
                    .filter_map(|v| match v {
                        ICalendarValue::Float(f) => Some(*f),
                        _ => None,
                    })
                    .collect();
                (f.first().copied(), f.get(1).copied())
            });
            Location {
                display_name: Some(name),
                latitude: geo.and_then(|g| g.0),
                longitude: geo.and_then(|g| g.1),
                ..Location::default()
            }
        })
    });
    let body = match p.first(X_ALT_DESC) {
        Some(alt)
            if param_text(alt, &ICalendarParameterName::Fmttype)
                .is_some_and(|t| t.eq_ignore_ascii_case("text/html")) =>
        {
            alt.values
                .first()
                .and_then(value_string)
                .map(|h| Body::new(BodyType::Html, h))
        }
        _ => p.text("DESCRIPTION").map(|d| {
            let t = p
                .code(X_BODY_TYPE, BodyType::from_code)
                .unwrap_or(BodyType::Plain);
            Body::new(t, d)
        }),
    };
    let busy_status = p
        .text(X_BUSY_STATUS)
        .and_then(|n| {
            [
                BusyStatus::Free,
                BusyStatus::Tentative,
                BusyStatus::Busy,
                BusyStatus::OutOfOffice,
                BusyStatus::WorkingElsewhere,
            ]
            .into_iter()
            .find(|b| busy_name(*b).eq_ignore_ascii_case(n.trim()))
        })
        .or_else(|| {
            p.first("TRANSP").and_then(|t| match t.values.first() {
                Some(ICalendarValue::Transparency(ICalendarTransparency::Transparent)) => {
                    Some(BusyStatus::Free)
                }
                Some(ICalendarValue::Transparency(ICalendarTransparency::Opaque)) => {
                    Some(BusyStatus::Busy)
                }
                _ => None,
            })
        });
    let sensitivity = p.code(X_SENSITIVITY, Sensitivity::from_code).or_else(|| {
        p.first("CLASS").and_then(|c| match c.values.first() {
            Some(ICalendarValue::Classification(ICalendarClassification::Public)) => {
                Some(Sensitivity::Normal)
            }
            Some(ICalendarValue::Classification(ICalendarClassification::Private)) => {
                Some(Sensitivity::Private)
            }
            Some(ICalendarValue::Classification(ICalendarClassification::Confidential)) => {
                Some(Sensitivity::Confidential)
            }
            _ => None,
        })
    });
    let cancelled = p.first("STATUS").is_some_and(|s| {
        matches!(
            s.values.first(),
            Some(ICalendarValue::Status(ICalendarStatus::Cancelled))
        )
    });
    let meeting_status = p
        .code(X_MEETING_STATUS, MeetingStatus::from_code)
        .or(cancelled.then_some(MeetingStatus::MEETING_CANCELED));
    let categories: Vec<String> = p
        .all("CATEGORIES")
        .flat_map(|e| e.values.iter().filter_map(value_string))
        .collect();
    let attendees: Vec<Attendee> = p.all("ATTENDEE").map(read_attendee).collect();
    let reminder = c
        .component_ids
        .iter()
        .filter_map(|id| ical.components.get(*id as usize))
        .filter(|a| a.component_type == ICalendarComponentType::VAlarm)
        .find_map(|a| {
            let t = Props(a).first("TRIGGER")?;
            let related_end = t.params.iter().any(|p| {
                p.name == ICalendarParameterName::Related
                    && matches!(
                        p.value,
                        ICalendarParameterValue::Related(calcard::icalendar::ICalendarRelated::End)
                    )
            });
            match t.values.first() {
                Some(ICalendarValue::Duration(d)) if !related_end => {
                    let minutes = u64::from(d.weeks) * 10_080
                        + u64::from(d.days) * 1440
                        + u64::from(d.hours) * 60
                        + u64::from(d.minutes);
                    Some(if d.neg {
                        u32::try_from(minutes).unwrap_or(u32::MAX)
                    } else {
                        0
                    })
                }
                _ => None,
            }
        });
    Ok(EventFields {
        subject: p.text("SUMMARY"),
        start_time: None,
        end_time: None,
        dt_stamp: p
            .first("DTSTAMP")
            .and_then(|d| read_date(d, "DTSTAMP").ok())
            .and_then(|d| d.instant(&tz::TimeZone::UTC).ok())
            .map(compact_datetime),
        all_day_event: p.flag(X_ALL_DAY),
        body,
        location,
        busy_status,
        sensitivity,
        reminder,
        meeting_status,
        categories: (!categories.is_empty()).then_some(categories),
        attendees: (!attendees.is_empty()).then_some(attendees),
        appointment_reply_time: p.text(X_REPLY_TIME),
        response_type: p.code(X_RESPONSE_TYPE, ResponseType::from_code),
        online_meeting_conf_link: p.text(X_CONF_LINK),
        online_meeting_external_link: p.text(X_EXTERNAL_LINK),
    })
}

fn read_attendee(e: &ICalendarEntry) -> Attendee {
    let mut a = Attendee::new(
        e.values
            .first()
            .and_then(value_string)
            .map(strip_mailto)
            .unwrap_or_default(),
        param_text(e, &ICalendarParameterName::Cn).unwrap_or_default(),
    );
    for p in &e.params {
        match &p.value {
            ICalendarParameterValue::Partstat(s) => {
                a.attendee_status = Some(match s {
                    ICalendarParticipationStatus::Accepted => AttendeeStatus::Accept,
                    ICalendarParticipationStatus::Declined => AttendeeStatus::Decline,
                    ICalendarParticipationStatus::Tentative => AttendeeStatus::Tentative,
                    ICalendarParticipationStatus::NeedsAction => AttendeeStatus::NotResponded,
                    _ => AttendeeStatus::ResponseUnknown,
                })
            }
            ICalendarParameterValue::Role(r) if a.attendee_type.is_none() => {
                a.attendee_type = Some(match r {
                    ICalendarParticipationRole::OptParticipant
                    | ICalendarParticipationRole::NonParticipant => AttendeeType::Optional,
                    _ => AttendeeType::Required,
                })
            }
            ICalendarParameterValue::Cutype(
                ICalendarUserTypes::Resource | ICalendarUserTypes::Room,
            ) => a.attendee_type = Some(AttendeeType::Resource),
            _ => {}
        }
    }
    if x_param_text(e, P_ATTENDEE_STATUS).as_deref() == Some("0") {
        a.attendee_status = Some(AttendeeStatus::ResponseUnknown);
    }
    a.proposed_start_time = x_param_text(e, P_PROPOSED_START);
    a.proposed_end_time = x_param_text(e, P_PROPOSED_END);
    a
}

// ---------------------------------------------------------------------------------------
// Changes

/// The stored event with a client's Change applied. A 16.x (Partial) Change's exception
/// replaces or adds the one of the same start, field by field.
pub fn merge(stored: &Calendar, change: &Calendar, rule: ChangeMode) -> Calendar {
    let keep = |tag: Tag| !rule.clears_absent(tag);
    fn pick<T: Clone>(stored: &Option<T>, new: &Option<T>, keep: bool) -> Option<T> {
        match new {
            Some(v) => Some(v.clone()),
            None if keep => stored.clone(),
            None => None,
        }
    }
    let (s, c) = (&stored.fields, &change.fields);
    let fields = EventFields {
        subject: pick(&s.subject, &c.subject, keep(cal::SUBJECT)),
        start_time: pick(&s.start_time, &c.start_time, keep(cal::START_TIME)),
        end_time: pick(&s.end_time, &c.end_time, keep(cal::END_TIME)),
        dt_stamp: pick(&s.dt_stamp, &c.dt_stamp, keep(cal::DT_STAMP)),
        all_day_event: pick(&s.all_day_event, &c.all_day_event, keep(cal::ALL_DAY_EVENT)),
        body: pick(&s.body, &c.body, keep(airsyncbase::BODY)),
        location: pick(&s.location, &c.location, keep(cal::LOCATION)),
        busy_status: pick(&s.busy_status, &c.busy_status, keep(cal::BUSY_STATUS)),
        sensitivity: pick(&s.sensitivity, &c.sensitivity, keep(cal::SENSITIVITY)),
        reminder: pick(&s.reminder, &c.reminder, keep(cal::REMINDER)),
        meeting_status: pick(
            &s.meeting_status,
            &c.meeting_status,
            keep(cal::MEETING_STATUS),
        ),
        categories: pick(&s.categories, &c.categories, keep(cal::CATEGORIES)),
        attendees: pick(&s.attendees, &c.attendees, keep(cal::ATTENDEES)),
        appointment_reply_time: pick(
            &s.appointment_reply_time,
            &c.appointment_reply_time,
            keep(cal::APPOINTMENT_REPLY_TIME),
        ),
        response_type: pick(&s.response_type, &c.response_type, keep(cal::RESPONSE_TYPE)),
        online_meeting_conf_link: pick(
            &s.online_meeting_conf_link,
            &c.online_meeting_conf_link,
            keep(cal::ONLINE_MEETING_CONF_LINK),
        ),
        online_meeting_external_link: pick(
            &s.online_meeting_external_link,
            &c.online_meeting_external_link,
            keep(cal::ONLINE_MEETING_EXTERNAL_LINK),
        ),
    };
    let exceptions = match (rule, &change.exceptions) {
        (ChangeMode::Partial, Some(changed)) => {
            let mut all = stored.exceptions.clone().unwrap_or_default();
            for ex in changed {
                match all
                    .iter_mut()
                    .find(|e| e.exception_start_time == ex.exception_start_time)
                {
                    Some(old) if ex.deleted != Some(true) => {
                        let merged = merge_exception(old, ex);
                        *old = merged;
                    }
                    Some(old) => *old = ex.clone(),
                    None => all.push(ex.clone()),
                }
            }
            Some(all)
        }
        _ => pick(
            &stored.exceptions,
            &change.exceptions,
            keep(cal::EXCEPTIONS),
        ),
    };
    Calendar {
        timezone: pick(&stored.timezone, &change.timezone, keep(cal::TIMEZONE)),
        fields,
        organizer_name: pick(
            &stored.organizer_name,
            &change.organizer_name,
            keep(cal::ORGANIZER_NAME),
        ),
        organizer_email: pick(
            &stored.organizer_email,
            &change.organizer_email,
            keep(cal::ORGANIZER_EMAIL),
        ),
        // The server's id: a client can't change it.
        uid: stored.uid.clone().or_else(|| change.uid.clone()),
        recurrence: pick(
            &stored.recurrence,
            &change.recurrence,
            keep(cal::RECURRENCE),
        ),
        exceptions,
        response_requested: pick(
            &stored.response_requested,
            &change.response_requested,
            keep(cal::RESPONSE_REQUESTED),
        ),
        disallow_new_time_proposal: pick(
            &stored.disallow_new_time_proposal,
            &change.disallow_new_time_proposal,
            keep(cal::DISALLOW_NEW_TIME_PROPOSAL),
        ),
        native_body_type: stored.native_body_type.or(change.native_body_type),
        client_uid: stored
            .client_uid
            .clone()
            .or_else(|| change.client_uid.clone()),
    }
}

fn merge_exception(old: &Exception, new: &Exception) -> Exception {
    let mut fields = overlay(&old.fields, &new.fields);
    fields.start_time = new
        .fields
        .start_time
        .clone()
        .or_else(|| old.fields.start_time.clone());
    Exception {
        deleted: new.deleted.or(old.deleted),
        exception_start_time: old.exception_start_time.clone(),
        fields,
    }
}

/// Applies a client's Change to a stored event: the merged event in iCalendar, with the
/// stored event's properties this module does not write (a CalDAV client's, an
/// importer's) kept as they were.
pub fn apply_change(
    stored: &ICalendar,
    change: &Calendar,
    rule: ChangeMode,
    zone: &tz::TimeZone,
) -> Result<ICalendar, CalendarError> {
    let old = from_ical(stored, zone)?;
    let merged = merge(&old, change, rule);
    let mut new = to_ical(&merged)?;
    let old_master = stored.components.iter().find(|c| {
        c.component_type == ICalendarComponentType::VEvent
            && Props(c).first("RECURRENCE-ID").is_none()
    });
    let new_master = new
        .components
        .iter_mut()
        .find(|c| c.component_type == ICalendarComponentType::VEvent);
    if let (Some(old_master), Some(new_master)) = (old_master, new_master) {
        for e in &old_master.entries {
            let name = prop_name(&e.name);
            if !OWNED.contains(&name.as_str()) && !name.starts_with("X-EAS-") {
                new_master.entries.push(e.clone());
            }
        }
    }
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::recurrence::expand;
    use easd_protocol::items::airsyncbase::Supported;
    use easd_protocol::items::calendar::Exception;
    use easd_protocol::items::recurrence::{DaysOfWeek, RecurrenceType};
    use easd_protocol::ProtocolVersion;

    fn zone(name: &str) -> tz::TimeZone {
        tz::TimeZone::get(name).unwrap()
    }

    fn blob(name: &str, year: i16) -> EasTimeZone {
        from_iana(&zone(name), year).unwrap()
    }

    fn utc(text: &str) -> Timestamp {
        parse_utc(text, "test").unwrap()
    }

    /// Every EAS field set, as a 16.1 client in Berlin creates a meeting.
    fn full() -> Calendar {
        let mut bob = Attendee::new("bob@example.com", "Bob Example");
        bob.attendee_status = Some(AttendeeStatus::Tentative);
        bob.attendee_type = Some(AttendeeType::Optional);
        bob.proposed_start_time = Some("20261202T100000Z".into());
        bob.proposed_end_time = Some("20261202T110000Z".into());
        let mut room = Attendee::new("room4@example.com", "Room 4");
        room.attendee_type = Some(AttendeeType::Resource);
        room.attendee_status = Some(AttendeeStatus::Accept);
        let mut carol = Attendee::new("carol@example.com", "");
        carol.attendee_status = Some(AttendeeStatus::ResponseUnknown);
        carol.attendee_type = Some(AttendeeType::Required);
        let mut dave = Attendee::new("dave@example.com", "Dave");
        dave.attendee_status = Some(AttendeeStatus::NotResponded);
        let mut erin = Attendee::new("erin@example.com", "Erin");
        erin.attendee_status = Some(AttendeeStatus::Decline);
        Calendar {
            timezone: Some(blob("Europe/Berlin", 2026)),
            fields: EventFields {
                subject: Some("Quarterly review; numbers, plans".into()),
                start_time: Some("20261202T080000Z".into()),
                end_time: Some("20261202T090000Z".into()),
                dt_stamp: Some("20261125T120000Z".into()),
                all_day_event: Some(false),
                body: Some(Body::new(BodyType::Plain, "Agenda:\n1. numbers\n2. plans")),
                location: Some(Location {
                    display_name: Some("Room 4, Building B".into()),
                    city: Some("Berlin".into()),
                    latitude: Some(52.52),
                    longitude: Some(13.405),
                    ..Location::default()
                }),
                busy_status: Some(BusyStatus::OutOfOffice),
                sensitivity: Some(Sensitivity::Personal),
                reminder: Some(15),
                meeting_status: Some(MeetingStatus::MEETING_ORGANIZED),
                categories: Some(vec!["Work".into(), "Finance, Q4".into()]),
                attendees: Some(vec![bob, room, carol, dave, erin]),
                appointment_reply_time: Some("20261126T080000Z".into()),
                response_type: Some(ResponseType::Organizer),
                online_meeting_conf_link: Some("https://meet.example.com/c/1".into()),
                online_meeting_external_link: Some("https://meet.example.com/x/1".into()),
            },
            organizer_name: Some("Alice Example".into()),
            organizer_email: Some("alice@example.com".into()),
            uid: Some("2f1c7a9e-easd-test".into()),
            recurrence: Some(Recurrence {
                day_of_week: Some(DaysOfWeek::WEDNESDAY),
                occurrences: Some(10),
                first_day_of_week: Some(1),
                ..Recurrence::new(RecurrenceType::Weekly)
            }),
            exceptions: Some(vec![
                Exception {
                    deleted: Some(true),
                    exception_start_time: Some("20261209T080000Z".into()),
                    fields: EventFields::default(),
                },
                Exception {
                    deleted: None,
                    exception_start_time: Some("20261216T080000Z".into()),
                    fields: EventFields {
                        subject: Some("Quarterly review (moved)".into()),
                        start_time: Some("20261216T120000Z".into()),
                        end_time: Some("20261216T130000Z".into()),
                        location: Some(Location {
                            display_name: Some("Room 7".into()),
                            ..Location::default()
                        }),
                        reminder: Some(30),
                        ..EventFields::default()
                    },
                },
            ]),
            response_requested: Some(true),
            disallow_new_time_proposal: Some(true),
            native_body_type: Some(BodyType::Plain),
            client_uid: Some("client-7".into()),
        }
    }

    /// What a client sends at `version` (the item through WBXML's element tree), to the
    /// store and back to the same device: the same elements.
    #[test]
    fn every_field_round_trips_per_version() {
        for version in [
            ProtocolVersion::V14_0,
            ProtocolVersion::V14_1,
            ProtocolVersion::V16_1,
        ] {
            let sent = Calendar::parse(&full().to_application_data(version)).unwrap();
            let ics = to_ics(&sent).unwrap();
            let back = from_ics(&ics, &zone("Europe/Berlin")).unwrap();
            assert_eq!(back, sent, "{version:?}\n{ics}");
            assert_eq!(
                back.to_application_data(version),
                sent.to_application_data(version)
            );
        }
        let ics = to_ics(&full()).unwrap();
        for line in [
            "DTSTART;TZID=Europe/Berlin:20261202T090000",
            "DTEND;TZID=Europe/Berlin:20261202T100000",
            "RRULE:FREQ=WEEKLY;COUNT=10;BYDAY=WE;WKST=MO",
            "EXDATE;TZID=Europe/Berlin:20261209T090000",
            "RECURRENCE-ID;TZID=Europe/Berlin:20261216T090000",
            "DTSTART;TZID=Europe/Berlin:20261216T130000",
            "CLASS:PRIVATE",
            "TRANSP:OPAQUE",
            "X-MICROSOFT-CDO-BUSYSTATUS:OOF",
            "TRIGGER:-PT15M",
            "TRIGGER:-PT30M",
            "BEGIN:VALARM",
            "GEO:52.52;13.405",
        ] {
            assert!(ics.contains(line), "{line} in\n{ics}");
        }
        assert_eq!(ics.matches("BEGIN:VTIMEZONE").count(), 1, "{ics}");
        assert!(ics.contains("TZID:Europe/Berlin"), "{ics}");
        let unfolded = ics.replace("\r\n ", "");
        assert!(
            unfolded.contains("ORGANIZER;CN=\"Alice Example\":mailto:alice@example.com"),
            "{unfolded}"
        );
        assert!(unfolded.contains("PARTSTAT=TENTATIVE"), "{unfolded}");
        assert!(unfolded.contains("ROLE=OPT-PARTICIPANT"), "{unfolded}");
        assert!(unfolded.contains("CUTYPE=RESOURCE"), "{unfolded}");
        assert!(unfolded.contains("PARTSTAT=DECLINED"), "{unfolded}");
    }

    const BERLIN_ICS: &str = "BEGIN:VCALENDAR\r\n\
VERSION:2.0\r\n\
PRODID:-//Example Corp//Planner 3.1//EN\r\n\
BEGIN:VEVENT\r\n\
UID:standup-7731@example.org\r\n\
DTSTAMP:20260301T120000Z\r\n\
DTSTART;TZID=Europe/Berlin:20260317T100000\r\n\
DTEND;TZID=Europe/Berlin:20260317T103000\r\n\
RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=8\r\n\
EXDATE;TZID=Europe/Berlin:20260331T100000\r\n\
SUMMARY:Team stand-up\r\n\
DESCRIPTION:Daily notes\\, blockers\\nand plans.\r\n\
LOCATION:Room 2.14\r\n\
CLASS:CONFIDENTIAL\r\n\
TRANSP:TRANSPARENT\r\n\
CATEGORIES:Team,Daily\r\n\
URL:https://planner.example.org/e/7731\r\n\
ORGANIZER;CN=Greta Organizer:mailto:greta@example.org\r\n\
ATTENDEE;CN=Hans;PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT:mailto:hans@example.org\r\n\
ATTENDEE;CN=Ines;PARTSTAT=NEEDS-ACTION;ROLE=OPT-PARTICIPANT:mailto:ines@example.org\r\n\
ATTENDEE;CUTYPE=ROOM;PARTSTAT=TENTATIVE:mailto:room214@example.org\r\n\
BEGIN:VALARM\r\n\
ACTION:DISPLAY\r\n\
DESCRIPTION:Stand-up\r\n\
TRIGGER:-PT30M\r\n\
END:VALARM\r\n\
END:VEVENT\r\n\
BEGIN:VEVENT\r\n\
UID:standup-7731@example.org\r\n\
DTSTAMP:20260301T120000Z\r\n\
RECURRENCE-ID;TZID=Europe/Berlin:20260407T100000\r\n\
DTSTART;TZID=Europe/Berlin:20260407T140000\r\n\
DTEND;TZID=Europe/Berlin:20260407T143000\r\n\
SUMMARY:Team stand-up (afternoon)\r\n\
DESCRIPTION:Daily notes\\, blockers\\nand plans.\r\n\
LOCATION:Room 2.14\r\n\
CLASS:CONFIDENTIAL\r\n\
TRANSP:TRANSPARENT\r\n\
CATEGORIES:Team,Daily\r\n\
ORGANIZER;CN=Greta Organizer:mailto:greta@example.org\r\n\
ATTENDEE;CN=Hans;PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT:mailto:hans@example.org\r\n\
ATTENDEE;CN=Ines;PARTSTAT=NEEDS-ACTION;ROLE=OPT-PARTICIPANT:mailto:ines@example.org\r\n\
ATTENDEE;CUTYPE=ROOM;PARTSTAT=TENTATIVE:mailto:room214@example.org\r\n\
END:VEVENT\r\n\
END:VCALENDAR\r\n";

    #[test]
    fn imported_berlin_event_with_exceptions() {
        let c = from_ics(BERLIN_ICS, &zone("America/New_York")).unwrap();
        let tz = c.timezone.clone().unwrap();
        assert_eq!(tz, blob("Europe/Berlin", 2026));
        assert_eq!(tz.bias, -60);
        assert_eq!((tz.daylight_date.month, tz.daylight_date.day), (3, 5));
        assert_eq!((tz.standard_date.month, tz.standard_date.day), (10, 5));
        // 10:00 CET is 09:00 UTC.
        assert_eq!(c.fields.start_time.as_deref(), Some("20260317T090000Z"));
        assert_eq!(c.fields.end_time.as_deref(), Some("20260317T093000Z"));
        assert_eq!(c.fields.dt_stamp.as_deref(), Some("20260301T120000Z"));
        let r = c.recurrence.clone().unwrap();
        assert_eq!(r.recurrence_type, RecurrenceType::Weekly);
        assert_eq!(r.day_of_week, Some(DaysOfWeek::TUESDAY));
        assert_eq!(r.occurrences, Some(8));
        let ex = c.exceptions.clone().unwrap();
        assert_eq!(ex.len(), 2);
        // 10:00 CEST after the change of March 29th is 08:00 UTC.
        assert_eq!(ex[0].deleted, Some(true));
        assert_eq!(
            ex[0].exception_start_time.as_deref(),
            Some("20260331T080000Z")
        );
        assert_eq!(ex[1].deleted, None);
        assert_eq!(
            ex[1].exception_start_time.as_deref(),
            Some("20260407T080000Z")
        );
        assert_eq!(ex[1].fields.start_time.as_deref(), Some("20260407T120000Z"));
        assert_eq!(ex[1].fields.end_time.as_deref(), Some("20260407T123000Z"));
        assert_eq!(
            ex[1].fields.subject.as_deref(),
            Some("Team stand-up (afternoon)")
        );
        // The rest is the series'.
        assert_eq!(ex[1].fields.location, None);
        assert_eq!(ex[1].fields.attendees, None);
        let f = &c.fields;
        assert_eq!(f.subject.as_deref(), Some("Team stand-up"));
        assert_eq!(
            f.body
                .as_ref()
                .and_then(|b| b.data.as_ref())
                .map(BodyData::to_text)
                .as_deref(),
            Some("Daily notes, blockers\nand plans.")
        );
        assert_eq!(
            f.location.as_ref().and_then(|l| l.display_name.as_deref()),
            Some("Room 2.14")
        );
        assert_eq!(f.sensitivity, Some(Sensitivity::Confidential));
        assert_eq!(f.busy_status, Some(BusyStatus::Free));
        assert_eq!(f.reminder, Some(30));
        assert_eq!(f.categories, Some(vec!["Team".into(), "Daily".into()]));
        assert_eq!(f.all_day_event, None);
        assert_eq!(c.organizer_email.as_deref(), Some("greta@example.org"));
        assert_eq!(c.organizer_name.as_deref(), Some("Greta Organizer"));
        assert_eq!(c.uid.as_deref(), Some("standup-7731@example.org"));
        let a = f.attendees.clone().unwrap();
        assert_eq!(a.len(), 3);
        assert_eq!(
            (
                a[0].email.as_str(),
                a[0].name.as_str(),
                a[0].attendee_status,
                a[0].attendee_type
            ),
            (
                "hans@example.org",
                "Hans",
                Some(AttendeeStatus::Accept),
                Some(AttendeeType::Required)
            )
        );
        assert_eq!(a[1].attendee_status, Some(AttendeeStatus::NotResponded));
        assert_eq!(a[1].attendee_type, Some(AttendeeType::Optional));
        assert_eq!(a[2].attendee_status, Some(AttendeeStatus::Tentative));
        assert_eq!(a[2].attendee_type, Some(AttendeeType::Resource));
        assert_eq!(a[2].name, "");
        // The occurrences the device will compute are the RRULE's less the exceptions.
        let place = Dtstart {
            local: zone("Europe/Berlin").to_datetime(utc("20260317T090000Z")),
            zone: zone("Europe/Berlin"),
            all_day: false,
        };
        let all = expand(
            &r,
            &place,
            SignedDuration::from_mins(30),
            utc("20260101T000000Z"),
            utc("20270101T000000Z"),
        )
        .unwrap();
        assert_eq!(all.len(), 8);
        assert!(all.iter().any(|o| o.start == utc("20260331T080000Z")));
    }

    #[test]
    fn all_day_event_stays_on_its_day_in_another_zone() {
        // A device in Kolkata creates an all-day event on December 24th: midnight to
        // midnight in its zone, 18:30 UTC the day before.
        let kolkata = Calendar {
            timezone: Some(blob("Asia/Kolkata", 2026)),
            fields: EventFields {
                subject: Some("Holiday".into()),
                start_time: Some("20261223T183000Z".into()),
                end_time: Some("20261224T183000Z".into()),
                all_day_event: Some(true),
                ..EventFields::default()
            },
            uid: Some("holiday-1".into()),
            ..Calendar::default()
        };
        let ics = to_ics(&kolkata).unwrap();
        assert!(ics.contains("DTSTART;VALUE=DATE:20261224"), "{ics}");
        assert!(ics.contains("DTEND;VALUE=DATE:20261225"), "{ics}");
        // The same device gets back what it sent.
        assert_eq!(from_ics(&ics, &zone("Asia/Kolkata")).unwrap(), kolkata);
        // A device in New York gets midnight to midnight in New York, on the 24th.
        let ny = from_ics(&ics, &zone("America/New_York")).unwrap();
        assert_eq!(ny.fields.start_time.as_deref(), Some("20261224T050000Z"));
        assert_eq!(ny.fields.end_time.as_deref(), Some("20261225T050000Z"));
        assert_eq!(ny.fields.all_day_event, Some(true));
        assert_eq!(ny.timezone, Some(blob("America/New_York", 2026)));
        let local = zone("America/New_York").to_datetime(utc("20261224T050000Z"));
        assert_eq!((local.month(), local.day(), local.hour()), (12, 24, 0));
        // An end that is not midnight is the midnight after it (MS-ASCAL 2.2.2.1).
        let mut short = kolkata.clone();
        short.fields.end_time = Some("20261224T120000Z".into());
        assert!(to_ics(&short)
            .unwrap()
            .contains("DTEND;VALUE=DATE:20261225"));
        short.fields.end_time = short.fields.start_time.clone();
        assert!(to_ics(&short)
            .unwrap()
            .contains("DTEND;VALUE=DATE:20261225"));
    }

    #[test]
    fn sydney_weekly_event_across_the_end_of_dst() {
        // Mondays 09:00 in Sydney from March 23rd 2026 (AEDT, UTC+11); DST ends April 5th,
        // after which 09:00 is 23:00 UTC the day before. The occurrence of April 13th is
        // deleted.
        let c = Calendar {
            timezone: Some(blob("Australia/Sydney", 2026)),
            fields: EventFields {
                subject: Some("Planning".into()),
                start_time: Some("20260322T220000Z".into()),
                end_time: Some("20260322T230000Z".into()),
                ..EventFields::default()
            },
            uid: Some("planning-syd".into()),
            recurrence: Some(Recurrence {
                interval: Some(1),
                day_of_week: Some(DaysOfWeek::MONDAY),
                occurrences: Some(5),
                ..Recurrence::new(RecurrenceType::Weekly)
            }),
            exceptions: Some(vec![Exception {
                deleted: Some(true),
                exception_start_time: Some("20260412T230000Z".into()),
                fields: EventFields::default(),
            }]),
            ..Calendar::default()
        };
        let ics = to_ics(&c).unwrap();
        assert!(
            ics.contains("DTSTART;TZID=Australia/Sydney:20260323T090000"),
            "{ics}"
        );
        assert!(
            ics.contains("EXDATE;TZID=Australia/Sydney:20260413T090000"),
            "{ics}"
        );
        let back = from_ics(&ics, &zone("Europe/Berlin")).unwrap();
        assert_eq!(back, c);
        let place = Dtstart {
            local: zone("Australia/Sydney").to_datetime(utc("20260322T220000Z")),
            zone: zone("Australia/Sydney"),
            all_day: false,
        };
        let starts: Vec<String> = expand(
            back.recurrence.as_ref().unwrap(),
            &place,
            SignedDuration::from_hours(1),
            utc("20260101T000000Z"),
            utc("20270101T000000Z"),
        )
        .unwrap()
        .into_iter()
        .map(|o| compact_datetime(o.start))
        .collect();
        assert_eq!(
            starts,
            [
                "20260322T220000Z",
                "20260329T220000Z",
                "20260405T230000Z",
                "20260412T230000Z",
                "20260419T230000Z",
            ]
        );
    }

    #[test]
    fn partial_change_keeps_untouched_fields() {
        let stored = ICalendar::parse(BERLIN_ICS).unwrap();
        let berlin = zone("Europe/Berlin");
        let before = from_ical(&stored, &berlin).unwrap();
        // A 16.1 client renames the event and deletes one more occurrence.
        let change = Calendar {
            fields: EventFields {
                subject: Some("Stand-up (new name)".into()),
                ..EventFields::default()
            },
            exceptions: Some(vec![Exception {
                deleted: Some(true),
                exception_start_time: Some("20260421T080000Z".into()),
                fields: EventFields::default(),
            }]),
            ..Calendar::default()
        };
        let updated = apply_change(&stored, &change, ChangeMode::Partial, &berlin).unwrap();
        let after = from_ical(&updated, &berlin).unwrap();
        assert_eq!(after.fields.subject.as_deref(), Some("Stand-up (new name)"));
        let mut want = before.clone();
        want.fields.subject = after.fields.subject.clone();
        let mut ex = before.exceptions.clone().unwrap();
        ex.push(change.exceptions.clone().unwrap()[0].clone());
        want.exceptions = Some(ex);
        // The moved occurrence keeps its own subject, which differs from the new one too.
        assert_eq!(after, want);
        // A property easd does not map is kept.
        assert!(updated
            .to_string()
            .contains("URL:https://planner.example.org/e/7731"));

        // Before 16.0 a Change is the whole item: what the client manages (Supported) and
        // left out is removed; what it does not manage is ghosted and kept.
        let supported =
            Supported::from_tags([cal::SUBJECT, cal::LOCATION, cal::START_TIME, cal::END_TIME]);
        let whole = Calendar {
            fields: EventFields {
                subject: Some("Renamed".into()),
                start_time: before.fields.start_time.clone(),
                end_time: before.fields.end_time.clone(),
                ..EventFields::default()
            },
            ..Calendar::default()
        };
        let ghosted = from_ical(
            &apply_change(
                &stored,
                &whole,
                ChangeMode::Replace {
                    supported: Some(&supported),
                },
                &berlin,
            )
            .unwrap(),
            &berlin,
        )
        .unwrap();
        assert_eq!(ghosted.fields.subject.as_deref(), Some("Renamed"));
        assert_eq!(ghosted.fields.location, None);
        assert_eq!(ghosted.fields.attendees, before.fields.attendees);
        assert_eq!(ghosted.recurrence, before.recurrence);
        assert_eq!(ghosted.fields.reminder, Some(30));

        let replaced = merge(&before, &whole, ChangeMode::Replace { supported: None });
        assert_eq!(replaced.fields.attendees, None);
        assert_eq!(replaced.recurrence, None);
        assert_eq!(replaced.uid, before.uid);
    }

    #[test]
    fn html_body_keeps_its_markup_and_gets_a_text_description() {
        let html = "<p>Agenda: <b>numbers</b></p>";
        let mut c = full();
        c.exceptions = None;
        c.fields.body = Some(Body::new(BodyType::Html, html));
        let ics = to_ics(&c).unwrap();
        let unfolded = ics.replace("\r\n ", "");
        assert!(
            unfolded.contains("X-ALT-DESC;FMTTYPE=text/html:<p>Agenda: <b>numbers</b></p>"),
            "{unfolded}"
        );
        assert!(
            unfolded.contains("DESCRIPTION:Agenda: **numbers**"),
            "{unfolded}"
        );
        assert_eq!(from_ics(&ics, &zone("Europe/Berlin")).unwrap(), c);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert_eq!(
            from_ics("not a calendar", &tz::TimeZone::UTC),
            Err(CalendarError::NotICalendar)
        );
        let no_event = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n";
        assert_eq!(
            from_ics(no_event, &tz::TimeZone::UTC),
            Err(CalendarError::NoEvent)
        );
        let no_start =
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        assert_eq!(
            from_ics(no_start, &tz::TimeZone::UTC),
            Err(CalendarError::MissingStart)
        );
        let bad = Calendar {
            fields: EventFields {
                start_time: Some("yesterday".into()),
                ..EventFields::default()
            },
            ..Calendar::default()
        };
        assert!(to_ics(&bad).is_err());
        assert_eq!(
            to_ics(&Calendar::default()),
            Err(CalendarError::MissingStart)
        );
    }

    proptest::proptest! {
        /// Whatever dates, zones, rules and alarms an imported file has, reading it answers
        /// without panicking, and what it reads writes and reads again.
        #[test]
        fn any_event_reads_without_panic(
            start in "[0-9]{8}(T[0-9]{6}Z?)?",
            end in "[0-9]{8}(T[0-9]{6}Z?)?",
            tzid in proptest::sample::select(vec!["Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "Nowhere/Else", "America/New_York"]),
            rule in "FREQ=(DAILY|WEEKLY|MONTHLY|YEARLY)(;COUNT=[0-9]{1,4})?(;BYDAY=(1MO|-1FR|TU,TH))?(;BYMONTHDAY=[0-9]{1,2})?",
            exdate in "[0-9]{8}(T[0-9]{6})?",
            trigger in "-?P([0-9]{1,3}D)?(T[0-9]{1,4}M)?",
        ) {
            let ics = format!(
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:p\r\n\
                 DTSTART;TZID={tzid}:{start}\r\nDTEND;TZID={tzid}:{end}\r\nRRULE:{rule}\r\n\
                 EXDATE;TZID={tzid}:{exdate}\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\n\
                 TRIGGER:{trigger}\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            );
            if let Ok(c) = from_ics(&ics, &zone("Europe/Berlin")) {
                let again = to_ics(&c).unwrap();
                proptest::prop_assert!(from_ics(&again, &zone("Europe/Berlin")).is_ok(), "{}", again);
            }
        }
    }

    fn text() -> impl proptest::strategy::Strategy<Value = String> {
        // Letters and the characters iCalendar escapes or quotes.
        "[a-zA-Z0-9 ,;:\\\"'\n^äß€-]{1,24}"
    }

    fn category() -> impl proptest::strategy::Strategy<Value = String> {
        // calcard trims spaces around the values of a list (and after an escaped comma);
        // a category is a name ("Red Category", "Q4,2026"), not spacing.
        "[a-zA-Z0-9;:\\\"'^äß€-]{1,12}( [a-zA-Z0-9,;:\\\"'^äß€-]{1,8})?"
    }

    proptest::proptest! {
        /// Any text a client puts in the text fields, names and categories comes back as
        /// it was sent.
        #[test]
        fn any_text_round_trips(
            subject in text(), location in text(), body in text(), name in text(),
            organizer in text(), categories in proptest::collection::vec(category(), 1..4),
            status in proptest::sample::select(vec![0u8, 2, 3, 4, 5]),
            kind in 1u8..=3, busy in 0u8..=4, sensitivity in 0u8..=3, reminder in 0u32..100_000,
        ) {
            let mut a = Attendee::new("x@example.com", name);
            a.attendee_status = AttendeeStatus::from_code(status);
            a.attendee_type = AttendeeType::from_code(kind);
            let c = Calendar {
                timezone: Some(blob("Asia/Kolkata", 2027)),
                fields: EventFields {
                    subject: Some(subject),
                    start_time: Some("20270105T033000Z".into()),
                    end_time: Some("20270105T043000Z".into()),
                    location: Some(Location { display_name: Some(location), ..Location::default() }),
                    body: Some(Body::new(BodyType::Plain, body)),
                    categories: Some(categories),
                    attendees: Some(vec![a]),
                    busy_status: BusyStatus::from_code(busy),
                    sensitivity: Sensitivity::from_code(sensitivity),
                    reminder: Some(reminder),
                    ..EventFields::default()
                },
                organizer_name: Some(organizer),
                organizer_email: Some("o@example.com".into()),
                uid: Some("u".into()),
                ..Calendar::default()
            };
            let ics = to_ics(&c).unwrap();
            let back = from_ics(&ics, &zone("Europe/Berlin")).unwrap();
            proptest::prop_assert_eq!(back, c, "{}", ics);
        }
    }
}
