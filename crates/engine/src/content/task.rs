//! Tasks (MS-ASTASK, typed in `easd_protocol::items::task`) ⇄ iCalendar VTODO (RFC 5545
//! 3.6.2, through calcard).
//!
//! | EAS | VTODO |
//! |---|---|
//! | Subject | SUMMARY |
//! | Body | DESCRIPTION |
//! | Importance | PRIORITY (High 1, Normal 5, Low 9; RFC 5545 3.8.1.9) |
//! | StartDate, DueDate | DTSTART, DUE: a DATE at local midnight (as Outlook's day tasks), else a floating DATE-TIME |
//! | UtcStartDate, UtcDueDate | X-EAS-UTC-START-DATE, X-EAS-UTC-DUE-DATE (without them the instants are DTSTART/DUE read as UTC, or in their TZID) |
//! | Complete, DateCompleted | STATUS:COMPLETED / NEEDS-ACTION, COMPLETED |
//! | Sensitivity | CLASS (Personal: CLASS:PRIVATE and X-EAS-SENSITIVITY:1) |
//! | ReminderSet, ReminderTime | a VALARM with ACTION:DISPLAY and an absolute TRIGGER |
//! | Categories | CATEGORIES |
//! | Recurrence | RRULE (content::recurrence), its Start in X-EAS-RECURRENCE-START when it is not the task's start, Regenerate and DeadOccur in X-EAS-REGENERATE and X-EAS-DEAD-OCCUR |
//! | OrdinalDate, SubOrdinalDate | X-EAS-ORDINAL-DATE, X-EAS-SUB-ORDINAL-DATE |
//! | Recurrence's CalendarType, IsLeapMonth | X-EAS-CALENDAR-TYPE, X-EAS-IS-LEAP-MONTH |
//! | a pattern RRULE can't hold (lunar) | X-EAS-RECURRENCE: "Type=6;Interval=1;..." with the EAS element names |

use crate::content::recurrence::{from_rrule, to_rrule, Dtstart};
use crate::content::ChangeMode;
use calcard::common::PartialDateTime;
use calcard::icalendar::{
    ICalendar, ICalendarAction, ICalendarClassification, ICalendarComponent,
    ICalendarComponentType, ICalendarEntry, ICalendarParameter, ICalendarParameterName,
    ICalendarParameterValue, ICalendarProperty, ICalendarStatus, ICalendarValue,
    ICalendarValueType,
};
use easd_protocol::items::airsyncbase::{Body, BodyType};
use easd_protocol::items::email::Importance;
use easd_protocol::items::recurrence::{DaysOfWeek, Recurrence, RecurrenceType};
use easd_protocol::items::task::{Sensitivity, Task, TaskRecurrence};
use jiff::civil::DateTime;
use jiff::{tz, Timestamp};

/// Why a stored or imported text is not a task.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    #[error("not an iCalendar object")]
    NotICalendar,
    #[error("the iCalendar object has no VTODO")]
    NoTodo,
    #[error("{0} is not a dateTime")]
    InvalidDate(&'static str),
}

/// A client's task dates are MS-ASDTYPE 2.3 dateTimes (MS-ASTASK StartDate, DueDate and
/// the others): one that is not can't be placed and would be lost, so the task is refused
/// (Sync Status 6) instead. Empty is a 16.x Change's "remove".
pub fn check_dates(task: &Task) -> Result<(), TaskError> {
    let dates = [
        ("StartDate", &task.start_date),
        ("UtcStartDate", &task.utc_start_date),
        ("DueDate", &task.due_date),
        ("UtcDueDate", &task.utc_due_date),
        ("DateCompleted", &task.date_completed),
        ("ReminderTime", &task.reminder_time),
    ];
    match dates.into_iter().find(|(_, v)| {
        v.as_deref()
            .is_some_and(|v| !v.trim().is_empty() && parse_instant(v).is_none())
    }) {
        Some((name, _)) => Err(TaskError::InvalidDate(name)),
        None => Ok(()),
    }
}

const UTC_START: &str = "X-EAS-UTC-START-DATE";
const UTC_DUE: &str = "X-EAS-UTC-DUE-DATE";
const SENSITIVITY: &str = "X-EAS-SENSITIVITY";
const RECURRENCE_START: &str = "X-EAS-RECURRENCE-START";
const REGENERATE: &str = "X-EAS-REGENERATE";
const DEAD_OCCUR: &str = "X-EAS-DEAD-OCCUR";
const ORDINAL_DATE: &str = "X-EAS-ORDINAL-DATE";
const PATTERN: &str = "X-EAS-RECURRENCE";
const CALENDAR_TYPE: &str = "X-EAS-CALENDAR-TYPE";
const IS_LEAP_MONTH: &str = "X-EAS-IS-LEAP-MONTH";
const SUB_ORDINAL_DATE: &str = "X-EAS-SUB-ORDINAL-DATE";

/// The VCALENDAR with one VTODO for a task a client added, with `uid`.
pub fn to_vtodo(task: &Task, uid: &str) -> ICalendar {
    let mut todo = ICalendarComponent::new(ICalendarComponentType::VTodo);
    todo.add_uid(uid);
    let mut push = |name: ICalendarProperty, value: ICalendarValue| {
        todo.entries
            .push(ICalendarEntry::new(name).with_value(value));
    };
    if let Some(s) = &task.subject {
        push(ICalendarProperty::Summary, ICalendarValue::Text(s.clone()));
    }
    if let Some(text) = task.body.as_ref().and_then(|b| b.data.as_ref()) {
        push(
            ICalendarProperty::Description,
            ICalendarValue::Text(text.to_text()),
        );
    }
    if let Some(i) = task.importance {
        let priority = match i {
            Importance::High => 1,
            Importance::Normal => 5,
            Importance::Low => 9,
        };
        push(
            ICalendarProperty::Priority,
            ICalendarValue::Integer(priority),
        );
    }
    if let Some(c) = task.complete {
        let status = if c {
            ICalendarStatus::Completed
        } else {
            ICalendarStatus::NeedsAction
        };
        push(ICalendarProperty::Status, ICalendarValue::Status(status));
    }
    if let Some(at) = task.date_completed.as_deref().and_then(parse_instant) {
        push(ICalendarProperty::Completed, utc_value(at));
    }
    if let Some(s) = task.sensitivity {
        let class = match s {
            Sensitivity::Normal => ICalendarClassification::Public,
            Sensitivity::Personal | Sensitivity::Private => ICalendarClassification::Private,
            Sensitivity::Confidential => ICalendarClassification::Confidential,
        };
        push(
            ICalendarProperty::Class,
            ICalendarValue::Classification(class),
        );
    }
    if let Some(c) = task.categories.as_ref().filter(|c| !c.is_empty()) {
        todo.entries.push(
            ICalendarEntry::new(ICalendarProperty::Categories)
                .with_values(c.iter().cloned().map(ICalendarValue::Text).collect()),
        );
    }
    for (property, local, utc, x) in [
        (
            ICalendarProperty::Dtstart,
            &task.start_date,
            &task.utc_start_date,
            UTC_START,
        ),
        (
            ICalendarProperty::Due,
            &task.due_date,
            &task.utc_due_date,
            UTC_DUE,
        ),
    ] {
        match (
            local.as_deref().and_then(parse_local),
            utc.as_deref().and_then(parse_instant),
        ) {
            (Some(l), u) => {
                todo.entries.push(local_entry(property, l));
                if let Some(u) = u {
                    todo.entries.push(x_entry(x, &eas_datetime(u)));
                }
            }
            (None, Some(u)) => todo
                .entries
                .push(ICalendarEntry::new(property).with_value(utc_value(u))),
            (None, None) => {}
        }
    }
    if let Some(r) = &task.recurrence {
        match recurrence_start(task).and_then(|start| to_rrule(&r.pattern, &start).ok()) {
            Some(rule) => todo.entries.push(
                ICalendarEntry::new(ICalendarProperty::Rrule)
                    .with_value(ICalendarValue::RecurrenceRule(Box::new(rule))),
            ),
            // A lunar pattern, or one without any date to start from: kept as EAS has it.
            None => todo
                .entries
                .push(x_entry(PATTERN, &pattern_text(&r.pattern))),
        }
        if let Some(c) = r.pattern.calendar_type {
            todo.entries.push(x_entry(CALENDAR_TYPE, &c.to_string()));
        }
        if let Some(l) = r.pattern.is_leap_month {
            todo.entries
                .push(x_entry(IS_LEAP_MONTH, if l { "1" } else { "0" }));
        }
        if let Some(start) = r
            .start
            .as_ref()
            .filter(|s| Some(*s) != task.start_date.as_ref())
        {
            todo.entries.push(x_entry(RECURRENCE_START, start));
        }
        if let Some(b) = r.regenerate {
            todo.entries
                .push(x_entry(REGENERATE, if b { "1" } else { "0" }));
        }
        if let Some(b) = r.dead_occur {
            todo.entries
                .push(x_entry(DEAD_OCCUR, if b { "1" } else { "0" }));
        }
    }
    if task.sensitivity == Some(Sensitivity::Personal) {
        todo.entries.push(x_entry(SENSITIVITY, "1"));
    }
    for (x, v) in [
        (ORDINAL_DATE, &task.ordinal_date),
        (SUB_ORDINAL_DATE, &task.sub_ordinal_date),
    ] {
        if let Some(v) = v {
            todo.entries.push(x_entry(x, v));
        }
    }

    let mut calendar = ICalendarComponent::new(ICalendarComponentType::VCalendar);
    calendar.add_property(
        ICalendarProperty::Version,
        ICalendarValue::Text("2.0".into()),
    );
    calendar.add_property(
        ICalendarProperty::Prodid,
        ICalendarValue::Text("-//easd//EN".into()),
    );
    calendar.component_ids = vec![1];
    let mut components = vec![calendar, todo];
    if task.reminder_set == Some(true) {
        let mut alarm = ICalendarComponent::new(ICalendarComponentType::VAlarm);
        alarm.add_property(
            ICalendarProperty::Action,
            ICalendarValue::Action(ICalendarAction::Display),
        );
        alarm.add_property(
            ICalendarProperty::Description,
            ICalendarValue::Text("Reminder".into()),
        );
        if let Some(at) = task.reminder_time.as_deref().and_then(parse_instant) {
            alarm.entries.push(
                ICalendarEntry::new(ICalendarProperty::Trigger)
                    .with_param(ICalendarParameter::new(
                        ICalendarParameterName::Value,
                        ICalendarParameterValue::Value(ICalendarValueType::DateTime),
                    ))
                    .with_value(utc_value(at)),
            );
        }
        components[1].component_ids = vec![2];
        components.push(alarm);
    }
    ICalendar { components }
}

/// The iCalendar text of a task.
pub fn write_ical(ical: &ICalendar) -> String {
    let mut out = String::new();
    // Writing into a String can't fail.
    let _ = ical.write_to(&mut out);
    out
}

/// The task in an iCalendar text (its first VTODO).
pub fn parse_task(text: &str) -> Result<Task, TaskError> {
    let ical = ICalendar::parse(text).map_err(|_| TaskError::NotICalendar)?;
    from_vtodo(&ical).ok_or(TaskError::NoTodo)
}

/// The task of the first VTODO of `ical`, for a client.
pub fn from_vtodo(ical: &ICalendar) -> Option<Task> {
    let todo = ical
        .components
        .iter()
        .find(|c| c.component_type == ICalendarComponentType::VTodo)?;
    let text = |p: ICalendarProperty| {
        todo.property(&p)
            .and_then(|e| e.values.first())
            .and_then(|v| v.as_text())
            .map(str::to_string)
    };
    let x = |name: &str| {
        todo.entries
            .iter()
            .find(
                |e| matches!(&e.name, ICalendarProperty::Other(n) if n.eq_ignore_ascii_case(name)),
            )
            .and_then(|e| e.values.first())
            .and_then(|v| v.as_text())
            .map(str::to_string)
    };
    let mut task = Task {
        subject: text(ICalendarProperty::Summary),
        body: text(ICalendarProperty::Description).map(|d| Body::new(BodyType::Plain, d)),
        ..Task::default()
    };
    task.importance = todo
        .property(&ICalendarProperty::Priority)
        .and_then(|e| e.values.first())
        .and_then(ICalendarValue::as_integer)
        .and_then(|p| match p {
            1..=4 => Some(Importance::High),
            5 => Some(Importance::Normal),
            6..=9 => Some(Importance::Low),
            _ => None,
        });
    let status = todo.status();
    let completed = todo
        .property(&ICalendarProperty::Completed)
        .and_then(|e| e.values.first())
        .and_then(ICalendarValue::as_partial_date_time)
        .and_then(|d| instant_of(d, None));
    task.complete = match status {
        Some(ICalendarStatus::Completed) => Some(true),
        Some(_) => Some(false),
        None => completed.map(|_| true),
    };
    task.date_completed = completed.map(eas_datetime);
    task.sensitivity = todo
        .property(&ICalendarProperty::Class)
        .and_then(|e| e.values.first())
        .and_then(|v| match v {
            ICalendarValue::Classification(ICalendarClassification::Public) => {
                Some(Sensitivity::Normal)
            }
            ICalendarValue::Classification(ICalendarClassification::Private) => {
                Some(Sensitivity::Private)
            }
            ICalendarValue::Classification(ICalendarClassification::Confidential) => {
                Some(Sensitivity::Confidential)
            }
            _ => None,
        });
    if task.sensitivity == Some(Sensitivity::Private) && x(SENSITIVITY).as_deref() == Some("1") {
        task.sensitivity = Some(Sensitivity::Personal);
    }
    let categories: Vec<String> = todo
        .properties(&ICalendarProperty::Categories)
        .flat_map(|e| {
            e.values
                .iter()
                .filter_map(|v| v.as_text().map(str::to_string))
        })
        .filter(|c| !c.is_empty())
        .collect();
    task.categories = (!categories.is_empty()).then_some(categories);
    for (property, x_name, local, utc) in [
        (
            ICalendarProperty::Dtstart,
            UTC_START,
            &mut task.start_date,
            &mut task.utc_start_date,
        ),
        (
            ICalendarProperty::Due,
            UTC_DUE,
            &mut task.due_date,
            &mut task.utc_due_date,
        ),
    ] {
        let Some(entry) = todo.property(&property) else {
            continue;
        };
        let Some(d) = entry
            .values
            .first()
            .and_then(ICalendarValue::as_partial_date_time)
        else {
            continue;
        };
        let zone = entry
            .parameter(&ICalendarParameterName::Tzid)
            .and_then(|z| z.as_text())
            .and_then(|z| tz::TimeZone::get(z).ok());
        let Some(civil) = civil_of(d) else { continue };
        let instant = instant_of(d, zone.as_ref());
        *local = Some(eas_datetime_civil(civil));
        *utc = x(x_name).or_else(|| instant.map(eas_datetime));
    }
    task.reminder_set = Some(false);
    for id in &todo.component_ids {
        let Some(alarm) = ical.components.get(*id as usize) else {
            continue;
        };
        if alarm.component_type != ICalendarComponentType::VAlarm {
            continue;
        }
        task.reminder_set = Some(true);
        task.reminder_time = alarm
            .property(&ICalendarProperty::Trigger)
            .and_then(|e| e.values.first())
            .and_then(ICalendarValue::as_partial_date_time)
            .and_then(|d| instant_of(d, None))
            .map(eas_datetime);
        break;
    }
    let rule = todo
        .property(&ICalendarProperty::Rrule)
        .and_then(|e| match e.values.first() {
            Some(ICalendarValue::RecurrenceRule(r)) => Some(r),
            _ => None,
        });
    let start = x(RECURRENCE_START).or_else(|| task.start_date.clone());
    let dtstart = start
        .as_deref()
        .or(task.due_date.as_deref())
        .and_then(parse_local)
        .map(day_start);
    let pattern = match (rule, dtstart) {
        (Some(rule), Some(s)) => from_rrule(rule, &s).ok(),
        _ => x(PATTERN).and_then(|t| parse_pattern(&t)),
    };
    if let Some(mut pattern) = pattern {
        if let Some(c) = x(CALENDAR_TYPE).and_then(|c| c.parse().ok()) {
            pattern.calendar_type = Some(c);
        }
        if let Some(l) = x(IS_LEAP_MONTH) {
            pattern.is_leap_month = Some(l == "1");
        }
        {
            task.recurrence = Some(TaskRecurrence {
                pattern,
                start,
                regenerate: x(REGENERATE).map(|v| v == "1"),
                dead_occur: x(DEAD_OCCUR).map(|v| v == "1"),
            });
        }
    }
    task.ordinal_date = x(ORDINAL_DATE);
    task.sub_ordinal_date = x(SUB_ORDINAL_DATE);
    Some(task)
}

/// The stored iCalendar text after a client's Change: the VTODO is rewritten from the
/// task (merged onto the stored one for [`ChangeMode::Partial`]); the stored VTODO's
/// properties that EAS doesn't carry (PERCENT-COMPLETE, X-MOZ-..., its UID) are kept.
pub fn apply_to_text(stored: &str, change: &Task, mode: ChangeMode) -> Result<String, TaskError> {
    let ical = ICalendar::parse(stored).map_err(|_| TaskError::NotICalendar)?;
    let old_todo = ical
        .components
        .iter()
        .find(|c| c.component_type == ICalendarComponentType::VTodo)
        .ok_or(TaskError::NoTodo)?;
    let mut task = change.clone();
    if mode == ChangeMode::Partial {
        task = from_vtodo(&ical).ok_or(TaskError::NoTodo)?;
        merge(&mut task, change);
    }
    let uid = old_todo.uid().unwrap_or_default().to_string();
    let mut new = to_vtodo(&task, &uid);
    let foreign = old_todo
        .entries
        .iter()
        .filter(|e| !is_managed(&e.name) && e.name != ICalendarProperty::Uid);
    new.components[1].entries.extend(foreign.cloned());
    Ok(write_ical(&new))
}

/// Properties [`to_vtodo`] writes: a Change replaces them.
fn is_managed(name: &ICalendarProperty) -> bool {
    use ICalendarProperty as P;
    match name {
        P::Other(n) => n.to_ascii_uppercase().starts_with("X-EAS-"),
        P::Summary
        | P::Description
        | P::Priority
        | P::Status
        | P::Completed
        | P::Class
        | P::Categories
        | P::Dtstart
        | P::Due
        | P::Rrule => true,
        _ => false,
    }
}

/// The properties present in `change` replace those of `task`.
fn merge(task: &mut Task, change: &Task) {
    macro_rules! take {
        ($($field:ident),*) => {
            $( if change.$field.is_some() { task.$field.clone_from(&change.$field); } )*
        };
    }
    take!(
        subject,
        body,
        importance,
        start_date,
        utc_start_date,
        due_date,
        utc_due_date,
        complete,
        date_completed,
        sensitivity,
        reminder_set,
        reminder_time,
        categories,
        recurrence,
        ordinal_date,
        sub_ordinal_date
    );
}

/// A pattern as "Type=6;Interval=1;DayOfWeek=2;...", the EAS element names and values, for
/// the patterns an RRULE can't hold.
fn pattern_text(r: &Recurrence) -> String {
    let mut parts = vec![format!("Type={}", r.recurrence_type.code())];
    let mut add = |name: &str, value: Option<String>| {
        if let Some(v) = value {
            parts.push(format!("{name}={v}"));
        }
    };
    add("Interval", r.interval.map(|v| v.to_string()));
    add("Until", r.until.clone());
    add("Occurrences", r.occurrences.map(|v| v.to_string()));
    add("DayOfWeek", r.day_of_week.map(|v| v.bits().to_string()));
    add("DayOfMonth", r.day_of_month.map(|v| v.to_string()));
    add("WeekOfMonth", r.week_of_month.map(|v| v.to_string()));
    add("MonthOfYear", r.month_of_year.map(|v| v.to_string()));
    add("FirstDayOfWeek", r.first_day_of_week.map(|v| v.to_string()));
    parts.join(";")
}

fn parse_pattern(text: &str) -> Option<Recurrence> {
    let mut r: Option<Recurrence> = None;
    for part in text.split(';') {
        let (name, value) = part.split_once('=')?;
        if name == "Type" {
            r = Some(Recurrence::new(RecurrenceType::from_code(
                value.parse().ok()?,
            )?));
            continue;
        }
        let r = r.as_mut()?;
        match name {
            "Interval" => r.interval = value.parse().ok(),
            "Until" => r.until = Some(value.to_string()),
            "Occurrences" => r.occurrences = value.parse().ok(),
            "DayOfWeek" => r.day_of_week = value.parse().ok().and_then(DaysOfWeek::from_bits),
            "DayOfMonth" => r.day_of_month = value.parse().ok(),
            "WeekOfMonth" => r.week_of_month = value.parse().ok(),
            "MonthOfYear" => r.month_of_year = value.parse().ok(),
            "FirstDayOfWeek" => r.first_day_of_week = value.parse().ok(),
            _ => {}
        }
    }
    r
}

/// FilterType 8, "incomplete tasks" (MS-ASCMD FilterType): whether a task belongs in the
/// window. A task without Complete counts as incomplete.
pub fn is_incomplete(task: &Task) -> bool {
    task.complete != Some(true)
}

/// The start of the task's recurrence for the RRULE conversion: tasks are day-based, so
/// an all-day start in UTC on the day of the recurrence's Start, StartDate or DueDate.
fn recurrence_start(task: &Task) -> Option<Dtstart> {
    let r = task.recurrence.as_ref()?;
    [&r.start, &task.start_date, &task.due_date]
        .into_iter()
        .find_map(|s| s.as_deref().and_then(parse_local))
        .map(day_start)
}

fn day_start(local: DateTime) -> Dtstart {
    Dtstart {
        local: local.date().to_datetime(jiff::civil::Time::midnight()),
        zone: tz::TimeZone::UTC,
        all_day: true,
    }
}

fn x_entry(name: &str, value: &str) -> ICalendarEntry {
    ICalendarEntry::new(ICalendarProperty::Other(name.into()))
        .with_value(ICalendarValue::Text(value.into()))
}

fn parse_instant(text: &str) -> Option<Timestamp> {
    text.trim().parse().ok()
}

/// StartDate and DueDate: a local time written as UTC (MS-ASTASK StartDate).
fn parse_local(text: &str) -> Option<DateTime> {
    parse_instant(text).map(|t| tz::TimeZone::UTC.to_datetime(t))
}

/// MS-ASDTYPE dateTime, "2026-11-25T16:22:49.000Z".
fn eas_datetime(at: Timestamp) -> String {
    eas_datetime_civil(tz::TimeZone::UTC.to_datetime(at))
}

fn eas_datetime_civil(dt: DateTime) -> String {
    format!("{}", dt.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
}

fn utc_value(at: Timestamp) -> ICalendarValue {
    let dt = tz::TimeZone::UTC.to_datetime(at);
    let mut p = partial(dt);
    p.tz_hour = Some(0);
    p.tz_minute = Some(0);
    ICalendarValue::PartialDateTime(Box::new(p))
}

fn partial(dt: DateTime) -> PartialDateTime {
    PartialDateTime {
        year: Some(dt.year() as u16),
        month: Some(dt.month() as u8),
        day: Some(dt.day() as u8),
        hour: Some(dt.hour() as u8),
        minute: Some(dt.minute() as u8),
        second: Some(dt.second() as u8),
        ..PartialDateTime::default()
    }
}

/// DTSTART or DUE for a local time: a DATE at midnight, else a floating DATE-TIME.
fn local_entry(property: ICalendarProperty, local: DateTime) -> ICalendarEntry {
    if local.time() == jiff::civil::Time::midnight() {
        let p = PartialDateTime {
            year: Some(local.year() as u16),
            month: Some(local.month() as u8),
            day: Some(local.day() as u8),
            ..PartialDateTime::default()
        };
        ICalendarEntry::new(property)
            .with_param(ICalendarParameter::new(
                ICalendarParameterName::Value,
                ICalendarParameterValue::Value(ICalendarValueType::Date),
            ))
            .with_value(ICalendarValue::PartialDateTime(Box::new(p)))
    } else {
        ICalendarEntry::new(property)
            .with_value(ICalendarValue::PartialDateTime(Box::new(partial(local))))
    }
}

fn civil_of(d: &PartialDateTime) -> Option<DateTime> {
    jiff::civil::DateTime::new(
        d.year? as i16,
        d.month? as i8,
        d.day? as i8,
        d.hour.unwrap_or(0) as i8,
        d.minute.unwrap_or(0) as i8,
        d.second.unwrap_or(0).min(59) as i8,
        0,
    )
    .ok()
}

/// The instant of a DATE-TIME: UTC when it says so or has no zone, else in `zone`.
fn instant_of(d: &PartialDateTime, zone: Option<&tz::TimeZone>) -> Option<Timestamp> {
    let civil = civil_of(d)?;
    let utc = matches!((d.tz_hour, d.tz_minute), (Some(0), Some(0)));
    match zone {
        Some(z) if !utc => z.to_ambiguous_timestamp(civil).compatible().ok(),
        _ => tz::TimeZone::UTC.to_timestamp(civil).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use easd_protocol::ProtocolVersion;

    fn full() -> Task {
        let mut pattern = Recurrence::new(RecurrenceType::Weekly);
        pattern.interval = Some(2);
        pattern.day_of_week = Some(DaysOfWeek::MONDAY.union(DaysOfWeek::THURSDAY));
        pattern.occurrences = Some(10);
        pattern.first_day_of_week = Some(1);
        Task {
            subject: Some("File the report".into()),
            body: Some(Body::new(
                BodyType::Plain,
                "Quarterly, to finance;\nby hand.",
            )),
            importance: Some(Importance::High),
            start_date: Some("2026-11-30T00:00:00.000Z".into()),
            utc_start_date: Some("2026-11-29T23:00:00.000Z".into()),
            due_date: Some("2026-12-03T00:00:00.000Z".into()),
            utc_due_date: Some("2026-12-02T23:00:00.000Z".into()),
            complete: Some(true),
            date_completed: Some("2026-12-01T15:30:00.000Z".into()),
            sensitivity: Some(Sensitivity::Personal),
            reminder_set: Some(true),
            reminder_time: Some("2026-12-02T08:00:00.000Z".into()),
            categories: Some(vec!["Work".into(), "Finance".into()]),
            recurrence: Some(TaskRecurrence {
                pattern,
                start: Some("2026-11-30T00:00:00.000Z".into()),
                regenerate: Some(false),
                dead_occur: Some(true),
            }),
            ordinal_date: Some("2026-11-25T10:00:00.000Z".into()),
            sub_ordinal_date: Some("5555555".into()),
        }
    }

    fn through_store(t: &Task) -> (String, Task) {
        let text = write_ical(&to_vtodo(t, "task-1"));
        let back = parse_task(&text).unwrap();
        (text, back)
    }

    #[test]
    fn every_field_survives_the_store_with_recurrence() {
        let t = full();
        let (text, back) = through_store(&t);
        assert!(text.contains("BEGIN:VTODO"), "{text}");
        assert!(text.contains("DUE;VALUE=DATE:20261203"), "{text}");
        assert!(
            text.contains("RRULE:FREQ=WEEKLY;COUNT=10;INTERVAL=2;BYDAY=MO,TH;WKST=MO"),
            "{text}"
        );
        assert!(text.contains("BEGIN:VALARM"), "{text}");
        assert!(text.contains("STATUS:COMPLETED"), "{text}");
        let mut want = t.clone();
        // from_rrule spells out what the pattern implies; the rest is equal.
        want.recurrence.as_mut().unwrap().pattern =
            back.recurrence.as_ref().unwrap().pattern.clone();
        assert_eq!(back, want, "{text}");
        let p = &back.recurrence.unwrap().pattern;
        assert_eq!(p.recurrence_type, RecurrenceType::Weekly);
        assert_eq!(p.interval, Some(2));
        assert_eq!(p.occurrences, Some(10));
        assert_eq!(
            p.day_of_week,
            Some(DaysOfWeek::MONDAY.union(DaysOfWeek::THURSDAY))
        );
        assert_eq!(p.first_day_of_week, Some(1));
    }

    #[test]
    fn a_date_that_is_no_date_is_refused() {
        assert_eq!(check_dates(&full()), Ok(()));
        let mut t = full();
        t.due_date = Some("soon".into());
        assert_eq!(check_dates(&t), Err(TaskError::InvalidDate("DueDate")));
        // Empty is a 16.x Change's "remove".
        t.due_date = Some(String::new());
        assert_eq!(check_dates(&t), Ok(()));
    }

    #[test]
    fn through_the_wire_and_the_store_per_version() {
        let t = full();
        for v in [
            ProtocolVersion::V14_0,
            ProtocolVersion::V14_1,
            ProtocolVersion::V16_1,
        ] {
            let sent = t.to_application_data(v);
            let received = Task::parse(&sent).unwrap();
            let (_, back) = through_store(&received);
            let again = Task::parse(&back.to_application_data(v)).unwrap();
            assert_eq!(again.subject, received.subject);
            assert_eq!(again.due_date, received.due_date);
            assert_eq!(again.utc_due_date, received.utc_due_date);
            assert_eq!(again.reminder_time, received.reminder_time);
            assert_eq!(
                again
                    .recurrence
                    .as_ref()
                    .map(|r| r.pattern.first_day_of_week),
                received
                    .recurrence
                    .as_ref()
                    .map(|r| r.pattern.first_day_of_week),
                "{v:?}"
            );
        }
    }

    #[test]
    fn imported_vtodo_in_a_zone() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN\r\n\
BEGIN:VTODO\r\nUID:abc\r\nSUMMARY:Call the plumber\r\nPRIORITY:9\r\nCLASS:CONFIDENTIAL\r\n\
DTSTART;TZID=Europe/Berlin:20260705T090000\r\nDUE;TZID=Europe/Berlin:20260706T170000\r\n\
STATUS:NEEDS-ACTION\r\nCATEGORIES:Home\r\nEND:VTODO\r\nEND:VCALENDAR\r\n";
        let t = parse_task(text).unwrap();
        assert_eq!(t.subject.as_deref(), Some("Call the plumber"));
        assert_eq!(t.importance, Some(Importance::Low));
        assert_eq!(t.sensitivity, Some(Sensitivity::Confidential));
        assert_eq!(t.start_date.as_deref(), Some("2026-07-05T09:00:00.000Z"));
        assert_eq!(
            t.utc_start_date.as_deref(),
            Some("2026-07-05T07:00:00.000Z")
        );
        assert_eq!(t.utc_due_date.as_deref(), Some("2026-07-06T15:00:00.000Z"));
        assert_eq!(t.complete, Some(false));
        assert_eq!(t.reminder_set, Some(false));
        assert!(is_incomplete(&t));
        assert!(!is_incomplete(&full()));
        assert_eq!(
            parse_task("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n").unwrap_err(),
            TaskError::NoTodo
        );
    }

    #[test]
    fn change_keeps_foreign_properties_and_partial_keeps_the_rest() {
        let stored = write_ical(&to_vtodo(&full(), "task-1")).replace(
            "END:VTODO",
            "PERCENT-COMPLETE:40\r\nX-MOZ-GENERATION:3\r\nEND:VTODO",
        );
        let change = Task {
            subject: Some("File the report today".into()),
            complete: Some(false),
            ..Task::default()
        };
        let text = apply_to_text(&stored, &change, ChangeMode::Partial).unwrap();
        assert!(text.contains("PERCENT-COMPLETE:40"), "{text}");
        assert!(text.contains("X-MOZ-GENERATION:3"), "{text}");
        assert!(text.contains("UID:task-1"), "{text}");
        let got = parse_task(&text).unwrap();
        assert_eq!(got.subject, change.subject);
        assert_eq!(got.complete, Some(false));
        assert_eq!(got.due_date, full().due_date);
        assert_eq!(got.categories, full().categories);

        let replaced = apply_to_text(&stored, &change, ChangeMode::WHOLE).unwrap();
        let got = parse_task(&replaced).unwrap();
        assert_eq!(got.due_date, None);
        assert_eq!(got.categories, None);
        assert!(replaced.contains("PERCENT-COMPLETE:40"), "{replaced}");
    }

    #[test]
    fn lunar_and_calendar_type_patterns_are_kept() {
        let mut t = full();
        let r = t.recurrence.as_mut().unwrap();
        r.pattern = Recurrence::new(RecurrenceType::Yearly);
        r.pattern.day_of_month = Some(15);
        r.pattern.month_of_year = Some(8);
        r.pattern.interval = Some(1);
        // Hebrew lunar (MS-ASCAL CalendarType 14): no RRULE without RSCALE.
        r.pattern.calendar_type = Some(14);
        r.pattern.is_leap_month = Some(true);
        let (text, back) = through_store(&t);
        assert!(!text.contains("RRULE"), "{text}");
        assert!(
            text.contains(r"X-EAS-RECURRENCE:Type=5\;Interval=1"),
            "{text}"
        );
        assert_eq!(back.recurrence, t.recurrence);

        // Gregorian with an explicit CalendarType goes to RRULE and keeps the type.
        let mut g = full();
        g.recurrence.as_mut().unwrap().pattern.calendar_type = Some(1);
        let (text, back) = through_store(&g);
        assert!(text.contains("RRULE:"), "{text}");
        assert_eq!(back.recurrence.unwrap().pattern.calendar_type, Some(1));
    }

    proptest::proptest! {
        #[test]
        fn any_texts_and_dates_survive_the_store(
            subject in "[a-zA-Zé0-9;,:\\\\\n \"<>@.-]{1,20}",
            body in "[a-zA-Zé0-9;,:\\\\\n \"<>@.-]{1,40}",
            // CATEGORIES is a list: calcard trims the spaces around each value (also after
            // an escaped ";"), so values here have none there.
            category in "[a-zA-Zé0-9:.-]([a-zA-Zé0-9: .-]{0,8}[a-zA-Zé0-9:.-])?",
            due in 0i64..4_000_000_000,
            offset_hours in -12i64..14,
        ) {
            let utc = Timestamp::from_second(due).unwrap();
            let local = utc.checked_add(jiff::SignedDuration::from_hours(offset_hours)).unwrap();
            let t = Task {
                subject: Some(subject),
                body: Some(Body::new(BodyType::Plain, body)),
                categories: Some(vec![category]),
                due_date: Some(eas_datetime(local)),
                utc_due_date: Some(eas_datetime(utc)),
                complete: Some(false),
                reminder_set: Some(false),
                ..Task::default()
            };
            let (_, back) = through_store(&t);
            proptest::prop_assert_eq!(back, t);
        }

        #[test]
        fn any_vtodo_converts_or_fails_cleanly(
            lines in proptest::collection::vec("[A-Z;=:,.a-z0-9 -]{0,24}", 0..10)
        ) {
            let text = format!(
                "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\n{}\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
                lines.join("\r\n")
            );
            if let Ok(t) = parse_task(&text) {
                let _ = write_ical(&to_vtodo(&t, "x"));
            }
        }
    }
}
