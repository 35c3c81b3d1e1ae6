//! Meetings as iTIP messages (RFC 5546) carried in mail (iMIP, RFC 6047), and what they do
//! to the stored events (iCalendar, see [`crate::content::calendar`]).
//!
//! - An organizer's REQUEST becomes the invitee's event, tentative until answered
//!   (MS-ASCAL MeetingStatus 3 "received", ResponseType 5 "not responded"); CANCEL marks
//!   it canceled (MeetingStatus 7, STATUS:CANCELLED).
//! - An invitee's answer (MS-ASCMD 2.2.1.11 MeetingResponse) sets the own ATTENDEE's
//!   PARTSTAT and goes to the organizer as a REPLY, which sets that ATTENDEE's PARTSTAT in
//!   the organizer's event.
//! - The mail's MessageClass says which of these it is (MS-ASEMAIL 2.2.2.50), and a
//!   request or cancellation carries MeetingRequest (MS-ASEMAIL 2.2.2.48).
//!
//! Everything here is pure: the engine's `meetings` module reads and writes the store.

use crate::content::calendar::{
    self, busy_name, entry, prop_name, text_value, value_string, x_entry, Props, P_ATTENDEE_STATUS,
    X_BUSY_STATUS, X_MEETING_STATUS, X_REPLY_TIME, X_RESPONSE_REQUESTED, X_RESPONSE_TYPE,
};
use crate::content::recurrence::compact_datetime;
use base64::Engine as _;
use calcard::icalendar::{
    ICalendar, ICalendarComponent, ICalendarComponentType, ICalendarEntry, ICalendarMethod,
    ICalendarParameter, ICalendarParameterName, ICalendarParameterValue,
    ICalendarParticipationStatus, ICalendarProperty, ICalendarStatus, ICalendarValue, Uri,
};
use easd_protocol::items::calendar::{BusyStatus, MeetingStatus, ResponseType};
use easd_protocol::items::recurrence::RecurrenceTags;
use easd_protocol::ProtocolVersion;
use easd_wbxml::tags::{email, email2};
use easd_wbxml::Element;
use jiff::{tz, Timestamp};
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::mime::MimePart;
use mail_builder::MessageBuilder;
use mail_parser::{MessageParser, MimeHeaders};

/// Longest iCalendar part read from a mail (a meeting with its time zones and a few
/// hundred attendees is far below).
const MAX_CALENDAR_PART: usize = 1024 * 1024;

/// An attendee's answer (RFC 5545 3.2.12 PARTSTAT) as the user gives it (MS-ASCMD
/// UserResponse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Accepted,
    Tentative,
    Declined,
}

impl Answer {
    fn partstat(self) -> ICalendarParticipationStatus {
        match self {
            Answer::Accepted => ICalendarParticipationStatus::Accepted,
            Answer::Tentative => ICalendarParticipationStatus::Tentative,
            Answer::Declined => ICalendarParticipationStatus::Declined,
        }
    }

    fn response_type(self) -> ResponseType {
        match self {
            Answer::Accepted => ResponseType::Accepted,
            Answer::Tentative => ResponseType::Tentative,
            Answer::Declined => ResponseType::Declined,
        }
    }

    /// How the answered meeting shows in the invitee's free/busy.
    fn busy_status(self) -> BusyStatus {
        match self {
            Answer::Accepted => BusyStatus::Busy,
            Answer::Tentative => BusyStatus::Tentative,
            Answer::Declined => BusyStatus::Free,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Answer::Accepted => "Accepted",
            Answer::Tentative => "Tentative",
            Answer::Declined => "Declined",
        }
    }
}

// ---------------------------------------------------------------------------------------
// Reading

/// The first text/calendar part of a mail (RFC 6047 2.4), as text.
pub fn calendar_part(raw: &[u8]) -> Option<String> {
    calendar_part_of(&MessageParser::default().parse(raw)?)
}

/// The first text/calendar part of a parsed mail.
pub fn calendar_part_of(message: &mail_parser::Message<'_>) -> Option<String> {
    message.parts.iter().find_map(|p| {
        let ct = p.content_type()?;
        let is_calendar = ct.ctype().eq_ignore_ascii_case("text")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("calendar"));
        if !is_calendar {
            return None;
        }
        let text = p.text_contents()?;
        (text.len() <= MAX_CALENDAR_PART).then(|| text.to_owned())
    })
}

/// The iCalendar object of a mail's calendar part.
pub fn parse_calendar_part(raw: &[u8]) -> Option<ICalendar> {
    ICalendar::parse(calendar_part(raw)?).ok()
}

/// METHOD of the VCALENDAR (RFC 5546 1.4).
pub fn method(ical: &ICalendar) -> Option<ICalendarMethod> {
    ical.components
        .first()?
        .entries
        .iter()
        .find_map(|e| match (&e.name, e.values.first()) {
            (ICalendarProperty::Method, Some(ICalendarValue::Method(m))) => Some(m.clone()),
            _ => None,
        })
}

fn events(ical: &ICalendar) -> impl Iterator<Item = &ICalendarComponent> {
    ical.components
        .iter()
        .filter(|c| c.component_type == ICalendarComponentType::VEvent)
}

fn events_mut(ical: &mut ICalendar) -> impl Iterator<Item = &mut ICalendarComponent> {
    ical.components
        .iter_mut()
        .filter(|c| c.component_type == ICalendarComponentType::VEvent)
}

/// The event's own VEVENT (the one without RECURRENCE-ID), else the first.
fn master(ical: &ICalendar) -> Option<&ICalendarComponent> {
    events(ical)
        .find(|e| Props(e).first("RECURRENCE-ID").is_none())
        .or_else(|| events(ical).next())
}

/// The UID of the event.
pub fn uid(ical: &ICalendar) -> Option<String> {
    master(ical).and_then(|m| Props(m).text("UID"))
}

/// The calendar user address of ORGANIZER or ATTENDEE, lowercased, without "mailto:".
fn address(e: &ICalendarEntry) -> Option<String> {
    let v = e.values.first().and_then(value_string)?;
    let v = calendar::strip_mailto(v).trim().to_lowercase();
    (!v.is_empty()).then_some(v)
}

/// The organizer's address.
pub fn organizer(ical: &ICalendar) -> Option<String> {
    master(ical).and_then(|m| Props(m).first("ORGANIZER").and_then(address))
}

/// The attendees' addresses (of the event and its overrides), each once.
pub fn attendees(ical: &ICalendar) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in events(ical) {
        for a in Props(e).all("ATTENDEE").filter_map(address) {
            if !out.contains(&a) {
                out.push(a);
            }
        }
    }
    out
}

fn partstat(e: &ICalendarEntry) -> Option<ICalendarParticipationStatus> {
    e.params.iter().find_map(|p| match &p.value {
        ICalendarParameterValue::Partstat(s) => Some(s.clone()),
        _ => None,
    })
}

/// Whether `addresses` (the user's address and aliases, lowercased) organize the event:
/// ORGANIZER is theirs, or there is none and there are attendees (a device that creates
/// a meeting need not name its user as the organizer).
pub fn is_organized_by(ical: &ICalendar, addresses: &[String]) -> bool {
    match organizer(ical) {
        Some(o) => addresses.contains(&o),
        None => !attendees(ical).is_empty(),
    }
}

/// Whether the event is canceled: STATUS:CANCELLED or a canceled MeetingStatus.
pub fn is_canceled(ical: &ICalendar) -> bool {
    master(ical).is_some_and(|m| {
        let p = Props(m);
        let status = p.first("STATUS").is_some_and(|s| {
            matches!(
                s.values.first(),
                Some(ICalendarValue::Status(ICalendarStatus::Cancelled))
            )
        });
        status
            || p.code(X_MEETING_STATUS, MeetingStatus::from_code)
                .is_some_and(MeetingStatus::is_canceled)
    })
}

/// MessageClass of a mail carrying `ical` (MS-ASEMAIL 2.2.2.50 and MS-OXOCAL 2.2.6–2.2.7):
/// the request, its cancellation, and the three answers by the replying attendee's
/// PARTSTAT. `None` for a calendar part that is no meeting message (PUBLISH: an
/// attachment).
pub fn message_class(ical: &ICalendar) -> Option<&'static str> {
    Some(match method(ical)? {
        ICalendarMethod::Request | ICalendarMethod::Add => "IPM.Schedule.Meeting.Request",
        ICalendarMethod::Cancel => "IPM.Schedule.Meeting.Canceled",
        ICalendarMethod::Reply => {
            let answer = master(ical)
                .and_then(|m| Props(m).first("ATTENDEE"))
                .and_then(partstat);
            match answer {
                Some(ICalendarParticipationStatus::Accepted) => "IPM.Schedule.Meeting.Resp.Pos",
                Some(ICalendarParticipationStatus::Declined) => "IPM.Schedule.Meeting.Resp.Neg",
                _ => "IPM.Schedule.Meeting.Resp.Tent",
            }
        }
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------
// Changing a stored event

fn remove(c: &mut ICalendarComponent, name: &str) {
    c.entries.retain(|e| prop_name(&e.name) != name);
}

fn set(c: &mut ICalendarComponent, e: ICalendarEntry) {
    let name = prop_name(&e.name);
    remove(c, &name);
    c.entries.push(e);
}

fn set_method(ical: &mut ICalendar, m: Option<ICalendarMethod>) {
    if let Some(cal) = ical.components.first_mut() {
        remove(cal, "METHOD");
        if let Some(m) = m {
            cal.entries
                .push(entry(ICalendarProperty::Method, ICalendarValue::Method(m)));
        }
    }
}

fn utc_value(at: Timestamp) -> ICalendarValue {
    calendar::datetime_value(tz::Offset::UTC.to_datetime(at), true)
}

/// Sets the PARTSTAT of the ATTENDEE entries of `addresses` in `c`; true when one was
/// there.
fn set_partstat(
    c: &mut ICalendarComponent,
    addresses: &[String],
    status: ICalendarParticipationStatus,
) -> bool {
    let mut found = false;
    for e in c
        .entries
        .iter_mut()
        .filter(|e| e.name == ICalendarProperty::Attendee)
    {
        if !address(e).is_some_and(|a| addresses.contains(&a)) {
            continue;
        }
        e.params.retain(|p| {
            !matches!(p.name, ICalendarParameterName::Partstat | ICalendarParameterName::Rsvp)
                && !matches!(&p.name, ICalendarParameterName::Other(n) if n.eq_ignore_ascii_case(P_ATTENDEE_STATUS))
        });
        e.params.push(ICalendarParameter::partstat(status.clone()));
        found = true;
    }
    found
}

/// The invitee's event for an organizer's REQUEST (RFC 5546 3.2.2): the organizer's
/// event without METHOD, marked as received and not yet answered (MS-ASCAL MeetingStatus
/// 3, ResponseType 5), tentative in free/busy until answered; the own ATTENDEE asked
/// for an answer (RSVP) sets ResponseRequested.
pub fn received_request(request: &ICalendar, own: &[String]) -> ICalendar {
    let mut ical = request.clone();
    set_method(&mut ical, None);
    for e in events_mut(&mut ical) {
        let rsvp = e
            .entries
            .iter()
            .filter(|a| a.name == ICalendarProperty::Attendee)
            .filter(|a| address(a).is_some_and(|a| own.contains(&a)))
            .any(|a| {
                a.params.iter().any(|p| {
                    p.name == ICalendarParameterName::Rsvp && p.value.as_bool() == Some(true)
                })
            });
        set_partstat(e, own, ICalendarParticipationStatus::NeedsAction);
        set(
            e,
            x_entry(
                X_MEETING_STATUS,
                MeetingStatus::MEETING_RECEIVED.code().to_string(),
            ),
        );
        set(
            e,
            x_entry(
                X_RESPONSE_TYPE,
                ResponseType::NotResponded.code().to_string(),
            ),
        );
        set(e, x_entry(X_BUSY_STATUS, busy_name(BusyStatus::Tentative)));
        set(
            e,
            x_entry(X_RESPONSE_REQUESTED, if rsvp { "TRUE" } else { "FALSE" }),
        );
    }
    ical
}

/// The invitee's event after the organizer's CANCEL (RFC 5546 3.2.5): the whole meeting
/// (MeetingStatus 7, STATUS:CANCELLED), or, for a CANCEL of one occurrence
/// (RECURRENCE-ID), that occurrence removed (EXDATE).
pub fn received_cancel(stored: &ICalendar, cancel: &ICalendar) -> ICalendar {
    let mut ical = stored.clone();
    let instances: Vec<ICalendarEntry> = events(cancel)
        .filter_map(|e| Props(e).first("RECURRENCE-ID").cloned())
        .collect();
    if instances.is_empty() {
        for e in events_mut(&mut ical) {
            set(
                e,
                entry(
                    ICalendarProperty::Status,
                    ICalendarValue::Status(ICalendarStatus::Cancelled),
                ),
            );
            set(
                e,
                x_entry(
                    X_MEETING_STATUS,
                    MeetingStatus::MEETING_RECEIVED_CANCELED.code().to_string(),
                ),
            );
        }
        return ical;
    }
    let cancelled_ids: Vec<Vec<ICalendarValue>> =
        instances.iter().map(|r| r.values.clone()).collect();
    // Overrides of a canceled occurrence go; the occurrence is excluded from the series.
    let mut drop = Vec::new();
    for (i, c) in ical.components.iter().enumerate() {
        if c.component_type == ICalendarComponentType::VEvent {
            if let Some(r) = Props(c).first("RECURRENCE-ID") {
                if cancelled_ids.contains(&r.values) {
                    drop.push(i as u32);
                }
            }
        }
    }
    ical.remove_component_ids(&drop);
    if let Some(m) = events_mut(&mut ical).find(|e| Props(e).first("RECURRENCE-ID").is_none()) {
        for r in instances {
            let mut ex = ICalendarEntry::new(ICalendarProperty::Exdate).with_values(r.values);
            ex.params = r.params;
            m.entries.push(ex);
        }
    }
    ical
}

/// The organizer's event after an attendee's REPLY (RFC 5546 3.2.3): each ATTENDEE of the
/// reply gets its PARTSTAT in the VEVENT of the same occurrence. False when it changes
/// nothing (the reply names no attendee of that occurrence).
pub fn apply_reply(stored: &mut ICalendar, reply: &ICalendar) -> bool {
    let mut changed = false;
    for r in events(reply) {
        let rid = Props(r).first("RECURRENCE-ID").map(|e| e.values.clone());
        let answers: Vec<(String, ICalendarParticipationStatus)> = Props(r)
            .all("ATTENDEE")
            .filter_map(|a| Some((address(a)?, partstat(a)?)))
            .collect();
        for e in events_mut(stored) {
            let own_rid = Props(e).first("RECURRENCE-ID").map(|e| e.values.clone());
            // The VEVENT of the same occurrence. An answer for one occurrence that has no
            // override here is not recorded: it is not the series' answer (RFC 5546
            // 3.2.3 leaves making an override to the organizer).
            if own_rid != rid {
                continue;
            }
            for (who, status) in &answers {
                changed |= set_partstat(e, std::slice::from_ref(who), status.clone());
            }
        }
    }
    changed
}

/// The invitee's event after answering (MS-ASCMD 2.2.1.11): the own PARTSTAT, ResponseType,
/// the busy status the answer implies and AppointmentReplyTime.
pub fn answered(stored: &ICalendar, own: &[String], answer: Answer, now: Timestamp) -> ICalendar {
    let mut ical = stored.clone();
    for e in events_mut(&mut ical) {
        set_partstat(e, own, answer.partstat());
        set(
            e,
            x_entry(X_RESPONSE_TYPE, answer.response_type().code().to_string()),
        );
        set(e, x_entry(X_BUSY_STATUS, busy_name(answer.busy_status())));
        set(e, x_entry(X_REPLY_TIME, compact_datetime(now)));
    }
    ical
}

/// The REPLY an invitee sends (RFC 5546 3.2.3): the event's identity (UID, SEQUENCE,
/// RECURRENCE-ID), its organizer and dates, and only the replying attendee with the answer.
pub fn reply(stored: &ICalendar, own: &[String], answer: Answer, now: Timestamp) -> ICalendar {
    let mut out = ICalendar {
        components: vec![ICalendarComponent::new(ICalendarComponentType::VCalendar)],
    };
    out.components[0].entries = vec![
        entry(
            ICalendarProperty::Prodid,
            text_value("-//easd//Exchange ActiveSync//EN"),
        ),
        entry(ICalendarProperty::Version, text_value("2.0")),
        entry(
            ICalendarProperty::Method,
            ICalendarValue::Method(ICalendarMethod::Reply),
        ),
    ];
    const KEPT: &[&str] = &[
        "UID",
        "SEQUENCE",
        "RECURRENCE-ID",
        "ORGANIZER",
        "DTSTART",
        "DTEND",
        "DURATION",
        "SUMMARY",
    ];
    for e in events(stored) {
        let mut r = ICalendarComponent::new(ICalendarComponentType::VEvent);
        r.entries = e
            .entries
            .iter()
            .filter(|p| KEPT.contains(&prop_name(&p.name).as_str()))
            .cloned()
            .collect();
        r.entries
            .push(entry(ICalendarProperty::Dtstamp, utc_value(now)));
        let mut me: Vec<ICalendarEntry> = e
            .entries
            .iter()
            .filter(|a| a.name == ICalendarProperty::Attendee)
            .filter(|a| address(a).is_some_and(|a| own.contains(&a)))
            .take(1)
            .cloned()
            .collect();
        if me.is_empty() {
            // Answering a meeting that did not name the user (a list's invitation).
            let Some(first) = own.first() else { continue };
            me.push(entry(
                ICalendarProperty::Attendee,
                ICalendarValue::Uri(Uri::Location(format!("mailto:{first}"))),
            ));
        }
        r.entries.extend(me);
        set_partstat(&mut r, own, answer.partstat());
        let id = out.components.len() as u32;
        out.components[0].component_ids.push(id);
        out.components.push(r);
    }
    out.copy_timezones(stored);
    out
}

/// Whether the event repeats (RRULE or RDATE on its own VEVENT).
pub fn is_recurring(ical: &ICalendar) -> bool {
    master(ical).is_some_and(|m| {
        let p = Props(m);
        p.first("RRULE").is_some() || p.first("RDATE").is_some()
    })
}

/// The REPLY for one occurrence of a series (RFC 5546 3.2.3 with RECURRENCE-ID, RFC 5545
/// 3.8.4.4): the series' identity and the answer, for the occurrence that originally
/// starts at `occurrence` (written in UTC).
pub fn occurrence_reply(
    stored: &ICalendar,
    own: &[String],
    answer: Answer,
    now: Timestamp,
    occurrence: Timestamp,
) -> ICalendar {
    let mut series = stored.clone();
    let overrides: Vec<u32> = series
        .components
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.component_type == ICalendarComponentType::VEvent
                && Props(c).first("RECURRENCE-ID").is_some()
        })
        .map(|(i, _)| i as u32)
        .collect();
    series.remove_component_ids(&overrides);
    let mut r = reply(&series, own, answer, now);
    for e in events_mut(&mut r) {
        for name in ["DTSTART", "DTEND", "DURATION", "RECURRENCE-ID"] {
            remove(e, name);
        }
        e.entries.push(entry(
            ICalendarProperty::RecurrenceId,
            utc_value(occurrence),
        ));
    }
    r
}

/// The occurrence a REPLY answers (its RECURRENCE-ID, when written in UTC as easd and most
/// clients write it), with each attendee's answer.
pub fn replied_occurrence(
    reply: &ICalendar,
) -> Option<(Timestamp, Vec<(String, ICalendarParticipationStatus)>)> {
    let e = master(reply)?;
    let p = Props(e);
    let rid = p.first("RECURRENCE-ID")?;
    let at = match rid.values.first()? {
        ICalendarValue::PartialDateTime(d)
            if d.tz_hour == Some(0) && d.tz_minute.unwrap_or(0) == 0 =>
        {
            let dt = jiff::civil::DateTime::new(
                i16::try_from(d.year?).ok()?,
                i8::try_from(d.month?).ok()?,
                i8::try_from(d.day?).ok()?,
                i8::try_from(d.hour?).ok()?,
                i8::try_from(d.minute?).ok()?,
                i8::try_from(d.second.unwrap_or(0)).ok()?,
                0,
            )
            .ok()?;
            tz::Offset::UTC.to_timestamp(dt).ok()?
        }
        _ => return None,
    };
    let answers = p
        .all("ATTENDEE")
        .filter_map(|a| Some((address(a)?, partstat(a)?)))
        .collect();
    Some((at, answers))
}

/// The REQUEST (RFC 5546 3.2.2) or CANCEL (3.2.5) an organizer sends about the stored
/// event: ORGANIZER set (the device may leave it out), DTSTAMP now; a request asks each
/// attendee without an answer to answer (PARTSTAT=NEEDS-ACTION, RSVP=TRUE); a cancel is
/// STATUS:CANCELLED. SEQUENCE (RFC 5545 3.8.7.4) is the stored one plus `revision`.
pub fn organizer_message(
    stored: &ICalendar,
    organizer: &str,
    organizer_name: &str,
    method: ICalendarMethod,
    revision: i64,
    now: Timestamp,
) -> ICalendar {
    let mut ical = stored.clone();
    set_method(&mut ical, Some(method.clone()));
    for e in events_mut(&mut ical) {
        if Props(e).first("ORGANIZER").is_none() {
            let mut o = entry(
                ICalendarProperty::Organizer,
                ICalendarValue::Uri(Uri::Location(format!("mailto:{organizer}"))),
            );
            if !organizer_name.is_empty() {
                o.add_param(ICalendarParameter::cn(organizer_name.to_owned()));
            }
            e.entries.push(o);
        }
        set(e, entry(ICalendarProperty::Dtstamp, utc_value(now)));
        let sequence = sequence_of(e);
        set(
            e,
            entry(
                ICalendarProperty::Sequence,
                ICalendarValue::Integer(sequence + revision),
            ),
        );
        // The organizer's own view is no part of what attendees get.
        for name in [X_RESPONSE_TYPE, X_REPLY_TIME, X_MEETING_STATUS] {
            remove(e, name);
        }
        match method {
            ICalendarMethod::Cancel => set(
                e,
                entry(
                    ICalendarProperty::Status,
                    ICalendarValue::Status(ICalendarStatus::Cancelled),
                ),
            ),
            _ => {
                for a in e
                    .entries
                    .iter_mut()
                    .filter(|a| a.name == ICalendarProperty::Attendee)
                {
                    let unanswered =
                        partstat(a).is_none_or(|s| s == ICalendarParticipationStatus::NeedsAction);
                    if unanswered {
                        a.params.retain(|p| {
                            !matches!(
                                p.name,
                                ICalendarParameterName::Partstat | ICalendarParameterName::Rsvp
                            )
                        });
                        a.params.push(ICalendarParameter::partstat(
                            ICalendarParticipationStatus::NeedsAction,
                        ));
                        a.params.push(ICalendarParameter::rsvp(true));
                    }
                }
            }
        }
    }
    ical
}

/// Whether an organizer's change is one attendees must hear of (RFC 5546 2.1.4: a change
/// of time, place, recurrence, subject or of who is invited), as opposed to the organizer's
/// own view (a reminder, a category, the answers recorded by replies).
/// An event's SEQUENCE (RFC 5545 3.8.7.4; 0 when absent).
fn sequence_of(e: &ICalendarComponent) -> i64 {
    Props(e)
        .first("SEQUENCE")
        .and_then(|s| s.values.first())
        .and_then(|v| match v {
            ICalendarValue::Integer(i) => Some(*i),
            _ => None,
        })
        .unwrap_or(0)
}

/// The stored text of an event after a change: when the change is one its attendees must
/// hear of ([`differs_for_attendees`]), SEQUENCE is one past the stored event's, which
/// RFC 5545 3.8.7.4 asks of "each time the Organizer makes a significant revision", so
/// that invitees take the next REQUEST as newer than the last.
pub fn with_next_sequence(before: &str, after: String) -> String {
    let (Ok(old), Ok(mut new)) = (ICalendar::parse(before), ICalendar::parse(&after)) else {
        return after;
    };
    if !differs_for_attendees(&old, &new) {
        return after;
    }
    let next = events(&old).map(sequence_of).max().unwrap_or(0) + 1;
    for e in events_mut(&mut new) {
        set(
            e,
            entry(ICalendarProperty::Sequence, ICalendarValue::Integer(next)),
        );
    }
    new.to_string()
}

pub fn differs_for_attendees(before: &ICalendar, after: &ICalendar) -> bool {
    const RELEVANT: &[&str] = &[
        "DTSTART",
        "DTEND",
        "DURATION",
        "RRULE",
        "RDATE",
        "EXDATE",
        "RECURRENCE-ID",
        "LOCATION",
        "SUMMARY",
        "DESCRIPTION",
        "STATUS",
    ];
    let view = |ical: &ICalendar| {
        events(ical)
            .map(|e| {
                let mut props: Vec<String> = e
                    .entries
                    .iter()
                    .filter(|p| RELEVANT.contains(&prop_name(&p.name).as_str()))
                    .map(|p| format!("{:?}{:?}", p.values, p.params))
                    .collect();
                let mut who: Vec<String> = Props(e).all("ATTENDEE").filter_map(address).collect();
                props.sort();
                who.sort();
                (props, who)
            })
            .collect::<Vec<_>>()
    };
    view(before) != view(after)
}

// ---------------------------------------------------------------------------------------
// Mail

/// An iMIP message (RFC 6047 2.4): a text part for people and the iTIP object as
/// text/calendar with its METHOD, as multipart/alternative.
pub fn imip_message(
    from: (&str, &str),
    to: &[String],
    subject: &str,
    text: &str,
    ical: &ICalendar,
) -> Vec<u8> {
    let method = match method(ical) {
        Some(ICalendarMethod::Reply) => "REPLY",
        Some(ICalendarMethod::Cancel) => "CANCEL",
        _ => "REQUEST",
    };
    let (name, address) = from;
    let from = if name.trim().is_empty() {
        Address::new_address(None::<String>, address.to_owned())
    } else {
        Address::new_address(Some(name.trim().to_owned()), address.to_owned())
    };
    let to: Vec<Address<'_>> = to
        .iter()
        .map(|a| Address::new_address(None::<String>, a.clone()))
        .collect();
    let calendar = MimePart::new(
        ContentType::new("text/calendar")
            .attribute("method", method)
            .attribute("charset", "utf-8"),
        ical.to_string(),
    );
    let body = MimePart::new(
        "multipart/alternative",
        vec![
            MimePart::new(
                ContentType::new("text/plain").attribute("charset", "utf-8"),
                text.to_owned(),
            ),
            calendar,
        ],
    );
    MessageBuilder::new()
        .from(from)
        .to(Address::new_list(to))
        .subject(subject.to_owned())
        .body(body)
        .write_to_vec()
        .unwrap_or_default()
}

/// The subject of an answer, as Outlook words it ("Accepted: Planning").
pub fn reply_subject(answer: Answer, summary: &str) -> String {
    format!("{}: {summary}", answer.word())
}

/// The event's SUMMARY.
pub fn summary(ical: &ICalendar) -> String {
    master(ical)
        .and_then(|m| Props(m).text("SUMMARY"))
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// MeetingRequest (MS-ASEMAIL 2.2.2.48)

/// The GlobalObjId of a meeting (MS-ASEMAIL 2.2.2.39): the base64 of its Outlook
/// GlobalObjectId (MS-OXOCAL 2.2.1.27). A UID that is one in hex (what Outlook and
/// Exchange write) is that id; any other UID is wrapped as MS-OXOCAL 2.2.1.27 describes
/// for iCalendar UIDs: the "vCal-Uid" marker, version 1 and the UID, NUL-terminated.
pub fn global_obj_id(uid: &str) -> String {
    const CLASS_ID: [u8; 16] = [
        0x04, 0x00, 0x00, 0x00, 0x82, 0x00, 0xE0, 0x00, 0x74, 0xC5, 0xB7, 0x10, 0x1A, 0x82, 0xE0,
        0x08,
    ];
    let hex = |s: &str| -> Option<Vec<u8>> {
        if !s.len().is_multiple_of(2) {
            return None;
        }
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
            .collect()
    };
    let bytes = match hex(uid.trim()) {
        Some(b) if b.len() >= 40 && b[..16] == CLASS_ID => b,
        _ => {
            let mut data = b"vCal-Uid".to_vec();
            data.extend_from_slice(&1u32.to_le_bytes());
            data.extend_from_slice(uid.as_bytes());
            data.push(0);
            let mut b = CLASS_ID.to_vec();
            // YH, YL, M, D: zero for the whole meeting; creation time and 8 reserved bytes.
            b.extend_from_slice(&[0u8; 4]);
            b.extend_from_slice(&[0u8; 16]);
            b.extend_from_slice(&u32::try_from(data.len()).unwrap_or(0).to_le_bytes());
            b.extend(data);
            b
        }
    };
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// MS-ASDTYPE 2.3 dateTime ("2026-11-25T09:00:00.000Z"), which MeetingRequest's dates use.
fn eas_date(compact: &str) -> Option<String> {
    let t = crate::recipients::parse_eas_datetime(compact)?;
    Some(crate::content::email::eas_datetime(t.unix_timestamp()))
}

/// MeetingRequest for a mail of `message_class` (a request or a cancellation) whose
/// calendar part is in `raw`, as written for `version`.
pub fn meeting_request(
    raw: &[u8],
    message_class: &str,
    version: ProtocolVersion,
) -> Option<Element> {
    if !(message_class.starts_with("IPM.Schedule.Meeting.Request")
        || message_class.starts_with("IPM.Schedule.Meeting.Canceled"))
    {
        return None;
    }
    let ical = parse_calendar_part(raw)?;
    let c = calendar::from_ical(&ical, &tz::TimeZone::UTC).ok()?;
    let f = &c.fields;
    let rid = master(&ical)
        .and_then(|m| Props(m).first("RECURRENCE-ID").cloned())
        .is_some();
    let mut e = Element::new(email::MEETING_REQUEST);
    e.push_text(
        email::ALL_DAY_EVENT,
        if f.all_day_event == Some(true) {
            "1"
        } else {
            "0"
        },
    );
    if let Some(t) = f.start_time.as_deref().and_then(eas_date) {
        e.push_text(email::START_TIME, t);
    }
    // DtStamp is required; a request without DTSTAMP is dated by its start.
    let stamp = f
        .dt_stamp
        .as_deref()
        .or(f.start_time.as_deref())
        .and_then(eas_date)?;
    e.push_text(email::DT_STAMP, stamp);
    if let Some(t) = f.end_time.as_deref().and_then(eas_date) {
        e.push_text(email::END_TIME, t);
    }
    // InstanceType (MS-ASEMAIL 2.2.2.40): 0 single, 1 recurring master, 2 an occurrence.
    let instance_type = if c.recurrence.is_some() {
        "1"
    } else if rid {
        "2"
    } else {
        "0"
    };
    e.push_text(email::INSTANCE_TYPE, instance_type);
    if let Some(loc) = &f.location {
        if version >= ProtocolVersion::V16_0 {
            e.push(loc.to_element());
        } else if let Some(name) = &loc.display_name {
            e.push_text(email::LOCATION, name.clone());
        }
    }
    if let Some(o) = &c.organizer_email {
        let text = match c.organizer_name.as_deref().filter(|n| !n.is_empty()) {
            Some(n) => format!("\"{n}\" <{o}>"),
            None => o.clone(),
        };
        e.push_text(email::ORGANIZER, text);
    }
    if rid {
        // A request for one occurrence: the occurrence's start stands for it.
        if let Some(t) = f.start_time.as_deref().and_then(eas_date) {
            e.push_text(email::RECURRENCE_ID, t);
        }
    }
    if let Some(minutes) = f.reminder {
        // In seconds here (MS-ASEMAIL 2.2.2.63), in minutes in the calendar.
        e.push_text(email::REMINDER, (u64::from(minutes) * 60).to_string());
    }
    let requested = c.response_requested.unwrap_or(true);
    e.push_text(email::RESPONSE_REQUESTED, if requested { "1" } else { "0" });
    if let Some(r) = &c.recurrence {
        let mut rs = Element::new(email::RECURRENCES);
        rs.push(r.to_element_in(&RecurrenceTags::EMAIL, version));
        e.push(rs);
    }
    e.push_text(
        email::SENSITIVITY,
        f.sensitivity.map_or(0, |s| s.code()).to_string(),
    );
    // The organizer's intended busy status (IntDBusyStatus).
    let busy = f.busy_status.unwrap_or(BusyStatus::Busy);
    e.push_text(email::BUSY_STATUS, busy.code().to_string());
    if let Some(blob) = c.timezone.as_ref().and_then(|b| b.to_base64().ok()) {
        e.push_text(email::TIME_ZONE, blob);
    }
    if let Some(uid) = &c.uid {
        e.push_text(email::GLOBAL_OBJ_ID, global_obj_id(uid));
    }
    if version >= ProtocolVersion::V14_0 {
        if let Some(d) = c.disallow_new_time_proposal {
            e.push_text(email::DISALLOW_NEW_TIME_PROPOSAL, if d { "1" } else { "0" });
        }
    }
    if version >= ProtocolVersion::V14_1 {
        // MS-ASEMAIL 2.2.2.47: 1 initial request (a cancellation is no request: 0).
        let kind = if message_class.starts_with("IPM.Schedule.Meeting.Request") {
            "1"
        } else {
            "0"
        };
        e.push_text(email2::MEETING_MESSAGE_TYPE, kind);
    }
    Some(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use easd_protocol::items::calendar::AttendeeStatus;

    const REQUEST: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n\
METHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:plan-42@example.com\r\nSEQUENCE:0\r\n\
DTSTAMP:20300101T080000Z\r\nDTSTART:20300110T090000Z\r\nDTEND:20300110T100000Z\r\n\
SUMMARY:Planning\r\nLOCATION:Room 1\r\n\
ORGANIZER;CN=Alice:mailto:alice@example.com\r\n\
ATTENDEE;CN=Bob;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:Bob@Example.com\r\n\
ATTENDEE;PARTSTAT=ACCEPTED:mailto:carol@example.org\r\n\
END:VEVENT\r\nEND:VCALENDAR\r\n";

    fn request() -> ICalendar {
        ICalendar::parse(REQUEST).unwrap()
    }

    fn bob() -> Vec<String> {
        vec!["bob@example.com".into()]
    }

    fn now() -> Timestamp {
        "2030-01-02T12:00:00Z".parse().unwrap()
    }

    fn eas(ical: &ICalendar) -> easd_protocol::items::calendar::Calendar {
        calendar::from_ical(ical, &tz::TimeZone::UTC).unwrap()
    }

    fn status_of(ical: &ICalendar, who: &str) -> Option<AttendeeStatus> {
        eas(ical)
            .fields
            .attendees
            .unwrap_or_default()
            .into_iter()
            .find(|a| a.email.eq_ignore_ascii_case(who))
            .and_then(|a| a.attendee_status)
    }

    #[test]
    fn reads_the_request() {
        let r = request();
        assert_eq!(method(&r), Some(ICalendarMethod::Request));
        assert_eq!(uid(&r).as_deref(), Some("plan-42@example.com"));
        assert_eq!(organizer(&r).as_deref(), Some("alice@example.com"));
        assert_eq!(attendees(&r), ["bob@example.com", "carol@example.org"]);
        assert_eq!(message_class(&r), Some("IPM.Schedule.Meeting.Request"));
        assert!(is_organized_by(&r, &["alice@example.com".into()]));
        assert!(!is_organized_by(&r, &bob()));
        assert!(!is_canceled(&r));
    }

    #[test]
    fn a_request_becomes_a_tentative_unanswered_event() {
        let event = received_request(&request(), &bob());
        assert_eq!(method(&event), None, "stored events carry no METHOD");
        let c = eas(&event);
        assert_eq!(
            c.fields.meeting_status,
            Some(MeetingStatus::MEETING_RECEIVED)
        );
        assert_eq!(c.fields.response_type, Some(ResponseType::NotResponded));
        assert_eq!(c.fields.busy_status, Some(BusyStatus::Tentative));
        assert_eq!(c.response_requested, Some(true));
        assert_eq!(c.organizer_email.as_deref(), Some("alice@example.com"));
        assert_eq!(
            status_of(&event, "bob@example.com"),
            Some(AttendeeStatus::NotResponded)
        );
        // The other attendee's answer stays as the organizer knows it.
        assert_eq!(
            status_of(&event, "carol@example.org"),
            Some(AttendeeStatus::Accept)
        );
    }

    #[test]
    fn answering_sets_the_own_status_and_builds_the_reply() {
        let event = received_request(&request(), &bob());
        let accepted = answered(&event, &bob(), Answer::Accepted, now());
        let c = eas(&accepted);
        assert_eq!(c.fields.response_type, Some(ResponseType::Accepted));
        assert_eq!(c.fields.busy_status, Some(BusyStatus::Busy));
        assert_eq!(
            c.fields.appointment_reply_time.as_deref(),
            Some("20300102T120000Z")
        );
        assert_eq!(
            status_of(&accepted, "bob@example.com"),
            Some(AttendeeStatus::Accept)
        );

        let r = reply(&accepted, &bob(), Answer::Accepted, now());
        assert_eq!(method(&r), Some(ICalendarMethod::Reply));
        assert_eq!(uid(&r).as_deref(), Some("plan-42@example.com"));
        assert_eq!(organizer(&r).as_deref(), Some("alice@example.com"));
        // Only the replying attendee (RFC 5546 3.2.3).
        assert_eq!(attendees(&r), ["bob@example.com"]);
        assert_eq!(message_class(&r), Some("IPM.Schedule.Meeting.Resp.Pos"));
        let text = r.to_string();
        assert!(text.contains("METHOD:REPLY"), "{text}");
        assert!(text.contains("PARTSTAT=ACCEPTED"), "{text}");
        assert!(!text.contains("X-EAS-RESPONSETYPE"), "{text}");

        for (answer, class) in [
            (Answer::Tentative, "IPM.Schedule.Meeting.Resp.Tent"),
            (Answer::Declined, "IPM.Schedule.Meeting.Resp.Neg"),
        ] {
            let r = reply(&event, &bob(), answer, now());
            assert_eq!(message_class(&r), Some(class));
        }
    }

    #[test]
    fn a_reply_updates_the_organizers_attendee() {
        let mut organizers = received_request(&request(), &["alice@example.com".into()]);
        set_method(&mut organizers, None);
        let r = reply(&request(), &bob(), Answer::Declined, now());
        assert!(apply_reply(&mut organizers, &r));
        assert_eq!(
            status_of(&organizers, "bob@example.com"),
            Some(AttendeeStatus::Decline)
        );
        assert_eq!(
            status_of(&organizers, "carol@example.org"),
            Some(AttendeeStatus::Accept)
        );
        // A reply from someone not invited changes nothing.
        let stranger = reply(
            &request(),
            &["eve@example.net".into()],
            Answer::Accepted,
            now(),
        );
        assert!(!apply_reply(&mut organizers, &stranger));
        // An answer for one occurrence the organizer has no override of is not the
        // series' answer.
        let mut one = reply(&request(), &bob(), Answer::Accepted, now());
        for e in events_mut(&mut one) {
            e.entries.push(
                ICalendarEntry::new(ICalendarProperty::RecurrenceId)
                    .with_value(utc_value("2030-01-17T09:00:00Z".parse().unwrap())),
            );
        }
        assert!(!apply_reply(&mut organizers, &one));
        assert_eq!(
            status_of(&organizers, "bob@example.com"),
            Some(AttendeeStatus::Decline)
        );
    }

    #[test]
    fn a_cancel_cancels_the_whole_meeting_or_one_occurrence() {
        let event = received_request(&request(), &bob());
        let cancel = organizer_message(
            &event,
            "alice@example.com",
            "Alice",
            ICalendarMethod::Cancel,
            1,
            now(),
        );
        assert_eq!(
            message_class(&cancel),
            Some("IPM.Schedule.Meeting.Canceled")
        );
        let canceled = received_cancel(&event, &cancel);
        assert!(is_canceled(&canceled));
        assert_eq!(
            eas(&canceled).fields.meeting_status,
            Some(MeetingStatus::MEETING_RECEIVED_CANCELED)
        );

        let weekly = REQUEST.replace(
            "SUMMARY:Planning",
            "SUMMARY:Planning\r\nRRULE:FREQ=WEEKLY;COUNT=4",
        );
        let series = received_request(&ICalendar::parse(weekly.as_str()).unwrap(), &bob());
        let one = ICalendar::parse(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:CANCEL\r\nBEGIN:VEVENT\r\n\
UID:plan-42@example.com\r\nRECURRENCE-ID:20300117T090000Z\r\n\
ORGANIZER:mailto:alice@example.com\r\nDTSTAMP:20300102T120000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        )
        .unwrap();
        let after = received_cancel(&series, &one);
        assert!(!is_canceled(&after), "the series goes on");
        let ex = eas(&after).exceptions.unwrap();
        assert_eq!(ex.len(), 1);
        assert_eq!(ex[0].deleted, Some(true));
        assert_eq!(
            ex[0].exception_start_time.as_deref(),
            Some("20300117T090000Z")
        );
    }

    #[test]
    fn an_organizers_request_names_the_organizer_and_asks_for_answers() {
        let device = ICalendar::parse(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:dev-1\r\n\
DTSTART:20300110T090000Z\r\nDTEND:20300110T100000Z\r\nSUMMARY:Sync-up\r\n\
ATTENDEE;CN=Bob:mailto:bob@example.com\r\nX-EAS-RESPONSETYPE:1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        )
        .unwrap();
        assert!(is_organized_by(&device, &["alice@example.com".into()]));
        let m = organizer_message(
            &device,
            "alice@example.com",
            "Alice",
            ICalendarMethod::Request,
            0,
            now(),
        );
        assert_eq!(method(&m), Some(ICalendarMethod::Request));
        assert_eq!(organizer(&m).as_deref(), Some("alice@example.com"));
        let text = m.to_string();
        assert!(text.contains("RSVP=TRUE"), "{text}");
        assert!(text.contains("PARTSTAT=NEEDS-ACTION"), "{text}");
        assert!(text.contains("SEQUENCE:0"), "{text}");
        assert!(!text.contains("X-EAS-RESPONSETYPE"), "{text}");
    }

    #[test]
    fn attendees_hear_of_time_place_and_invitees_not_of_reminders() {
        let a = request();
        let moved = ICalendar::parse(REQUEST.replace("T090000Z", "T110000Z")).unwrap();
        let reminder = ICalendar::parse(REQUEST.replace(
            "END:VEVENT",
            "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT",
        ))
        .unwrap();
        let answered_by_carol = ICalendar::parse(
            REQUEST.replace("ATTENDEE;PARTSTAT=ACCEPTED", "ATTENDEE;PARTSTAT=DECLINED"),
        )
        .unwrap();
        let new_room = ICalendar::parse(REQUEST.replace("Room 1", "Room 2")).unwrap();
        assert!(differs_for_attendees(&a, &moved));
        assert!(differs_for_attendees(&a, &new_room));
        assert!(!differs_for_attendees(&a, &reminder));
        assert!(!differs_for_attendees(&a, &answered_by_carol));
    }

    #[test]
    fn global_obj_id_wraps_an_icalendar_uid_and_keeps_an_outlook_one() {
        let b64 = base64::engine::general_purpose::STANDARD;
        let id = b64.decode(global_obj_id("plan-42@example.com")).unwrap();
        assert_eq!(
            id[..16],
            [
                0x04, 0x00, 0x00, 0x00, 0x82, 0x00, 0xE0, 0x00, 0x74, 0xC5, 0xB7, 0x10, 0x1A, 0x82,
                0xE0, 0x08
            ]
        );
        let size = u32::from_le_bytes(id[36..40].try_into().unwrap()) as usize;
        assert_eq!(size, id.len() - 40);
        assert_eq!(&id[40..48], b"vCal-Uid");
        assert_eq!(&id[52..id.len() - 1], b"plan-42@example.com");
        assert_eq!(id[id.len() - 1], 0);

        let outlook = "040000008200E00074C5B7101A82E00800000000A0F7E8A0C39DD9010000000000000000\
10000000D0F3C1AAE2B2B0419F2D0E5A3C4B1F22";
        let id = b64.decode(global_obj_id(outlook)).unwrap();
        assert_eq!(id.len(), outlook.len() / 2);
        assert_eq!(id[16..20], [0, 0, 0, 0]);
    }

    #[test]
    fn an_imip_mail_carries_its_method_and_renders_meeting_request() {
        let raw = imip_message(
            ("Alice", "alice@example.com"),
            &bob(),
            "Planning",
            "Let's plan.",
            &request(),
        );
        let text = String::from_utf8_lossy(&raw);
        assert!(
            text.contains("method=REQUEST") || text.contains("method=\"REQUEST\""),
            "{text}"
        );
        assert_eq!(
            uid(&parse_calendar_part(&raw).unwrap()).as_deref(),
            Some("plan-42@example.com")
        );
        let fields = crate::content::mail::fields_from_mime(&raw, 0).unwrap();
        assert_eq!(fields.message_class, "IPM.Schedule.Meeting.Request");

        let m = meeting_request(&raw, &fields.message_class, ProtocolVersion::V16_1).unwrap();
        let text_of = |tag| m.child(tag).and_then(|c| c.text());
        assert_eq!(
            text_of(email::START_TIME).as_deref(),
            Some("2030-01-10T09:00:00.000Z")
        );
        assert_eq!(
            text_of(email::END_TIME).as_deref(),
            Some("2030-01-10T10:00:00.000Z")
        );
        assert_eq!(
            text_of(email::DT_STAMP).as_deref(),
            Some("2030-01-01T08:00:00.000Z")
        );
        assert_eq!(text_of(email::ALL_DAY_EVENT).as_deref(), Some("0"));
        assert_eq!(text_of(email::INSTANCE_TYPE).as_deref(), Some("0"));
        assert_eq!(
            text_of(email::ORGANIZER).as_deref(),
            Some("\"Alice\" <alice@example.com>")
        );
        assert_eq!(text_of(email::RESPONSE_REQUESTED).as_deref(), Some("1"));
        assert_eq!(
            text_of(email::GLOBAL_OBJ_ID),
            Some(global_obj_id("plan-42@example.com"))
        );
        assert_eq!(text_of(email2::MEETING_MESSAGE_TYPE).as_deref(), Some("1"));
        assert!(m.child(email::TIME_ZONE).is_some());
        // 16.x: airsyncbase:Location; before: email:Location text.
        assert!(m.child(easd_wbxml::tags::airsyncbase::LOCATION).is_some());
        let m14 = meeting_request(&raw, &fields.message_class, ProtocolVersion::V14_0).unwrap();
        assert_eq!(
            m14.child(email::LOCATION).and_then(|c| c.text()),
            Some("Room 1".to_owned())
        );
        assert!(m14.child(email2::MEETING_MESSAGE_TYPE).is_none());
        assert!(meeting_request(&raw, "IPM.Note", ProtocolVersion::V16_1).is_none());
    }
}
