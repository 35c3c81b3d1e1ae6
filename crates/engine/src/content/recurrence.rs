//! EAS recurrence patterns (MS-ASCAL 2.2.2.37, typed in `easd_protocol::items::recurrence`)
//! ⇄ iCalendar RRULE (RFC 5545 3.3.10, as calcard's `ICalendarRecurrenceRule`), and the
//! occurrences of a pattern in a time range (for exceptions and free/busy).
//!
//! | EAS Type | RRULE |
//! |---|---|
//! | 0 daily | FREQ=DAILY (BYDAY when DayOfWeek is set) |
//! | 1 weekly | FREQ=WEEKLY;BYDAY=days |
//! | 2 monthly | FREQ=MONTHLY;BYMONTHDAY=d |
//! | 3 monthly, n-th day | FREQ=MONTHLY;BYDAY=nDD, or BYDAY=days;BYSETPOS=n for several days, or BYMONTHDAY=-1 for "the last day" (DayOfWeek 127, WeekOfMonth 5) |
//! | 5 yearly | FREQ=YEARLY;BYMONTH=m;BYMONTHDAY=d |
//! | 6 yearly, n-th day | FREQ=YEARLY;BYMONTH=m and the n-th day as for 3 |
//!
//! Interval ⇄ INTERVAL, Occurrences ⇄ COUNT, Until ⇄ UNTIL, FirstDayOfWeek ⇄ WKST;
//! WeekOfMonth 5 ("last") is the ordinal -1. A field the pattern leaves out is the start's
//! (RFC 5545 3.3.10: "information, not contained in the rule, necessary to determine the
//! various recurrence instance start time and dates are derived from the Start Time
//! ("DTSTART") component attribute"); EAS clients expect it spelled out, so `from_rrule`
//! fills it in. Only Gregorian patterns convert: a lunar CalendarType or IsLeapMonth has no
//! RRULE without RSCALE (RFC 7529), and the caller keeps such a pattern as it came.

use crate::recipients::parse_eas_datetime;
use calcard::common::PartialDateTime;
use calcard::icalendar::{
    ICalendarDay, ICalendarFrequency, ICalendarMonth, ICalendarRecurrenceRule, ICalendarWeekday,
};
use easd_protocol::items::recurrence::{DaysOfWeek, Recurrence, RecurrenceType};
use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz;
use jiff::{SignedDuration, Timestamp};

/// Why a pattern or rule does not convert, or can't be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecurrenceError {
    /// The other side can't express this (the reason names the part).
    #[error("the recurrence can't be expressed: {0}")]
    Unsupported(&'static str),
    /// Until is not an MS-ASDTYPE dateTime, or UNTIL not a date or date-time.
    #[error("the recurrence's end date is not valid")]
    InvalidUntil,
    /// A date of the pattern is beyond what can be computed.
    #[error("the recurrence reaches a date out of range")]
    OutOfRange,
}

/// The start of the event a pattern belongs to (RFC 5545 DTSTART): its local date and time
/// in its zone, and whether it is an all-day event (then the time is 00:00 and UNTIL is a
/// DATE).
#[derive(Debug, Clone, PartialEq)]
pub struct Dtstart {
    pub local: DateTime,
    pub zone: tz::TimeZone,
    pub all_day: bool,
}

/// CalendarType values that are the Gregorian calendar (MS-ASCAL CalendarType: 0 default,
/// 1 Gregorian, 2 Gregorian (U.S.), 9 to 12 Gregorian in other localizations).
fn is_gregorian(calendar_type: Option<u8>) -> bool {
    matches!(calendar_type, None | Some(0 | 1 | 2 | 9 | 10 | 11 | 12))
}

fn check_gregorian(r: &Recurrence) -> Result<(), RecurrenceError> {
    if !is_gregorian(r.calendar_type) {
        return Err(RecurrenceError::Unsupported("a non-Gregorian CalendarType"));
    }
    if r.is_leap_month == Some(true) {
        return Err(RecurrenceError::Unsupported("IsLeapMonth"));
    }
    Ok(())
}

// EAS days are 0 = Sunday ... 6 = Saturday, the order of ICalendarWeekday too.
const ICAL_DAYS: [ICalendarWeekday; 7] = [
    ICalendarWeekday::Sunday,
    ICalendarWeekday::Monday,
    ICalendarWeekday::Tuesday,
    ICalendarWeekday::Wednesday,
    ICalendarWeekday::Thursday,
    ICalendarWeekday::Friday,
    ICalendarWeekday::Saturday,
];

fn ical_day(index: u8) -> ICalendarWeekday {
    ICAL_DAYS[usize::from(index % 7)]
}

fn eas_day(day: ICalendarWeekday) -> u8 {
    ICAL_DAYS.iter().position(|d| *d == day).unwrap_or(0) as u8
}

fn weekday_index(day: Weekday) -> u8 {
    day.to_sunday_zero_offset() as u8
}

/// WeekOfMonth (1..=4, 5 = last) ⇄ an RFC 5545 ordinal (1..=4, -1).
fn ordinal_of_week(week: u8) -> i16 {
    if week >= 5 {
        -1
    } else {
        i16::from(week)
    }
}

fn week_of_ordinal(ordinal: i64) -> Result<u8, RecurrenceError> {
    match ordinal {
        -1 => Ok(5),
        1..=4 => Ok(ordinal as u8),
        _ => Err(RecurrenceError::Unsupported(
            "an ordinal other than 1 to 4 or -1",
        )),
    }
}

/// The n-th week of the month a date is in, as WeekOfMonth counts it.
fn week_of(date: Date) -> u8 {
    ((date.day() - 1) / 7 + 1) as u8
}

/// The RRULE for an EAS pattern of an event starting at `start`. With both Occurrences and
/// Until, COUNT is written (RFC 5545 allows one of them).
pub fn to_rrule(
    r: &Recurrence,
    start: &Dtstart,
) -> Result<ICalendarRecurrenceRule, RecurrenceError> {
    check_gregorian(r)?;
    let mut rule = ICalendarRecurrenceRule {
        interval: r.interval.filter(|&i| i > 1),
        wkst: r.first_day_of_week.map(ical_day),
        ..ICalendarRecurrenceRule::default()
    };
    if let Some(count) = r.occurrences.filter(|&n| n > 0) {
        rule.count = Some(u32::from(count));
    } else if let Some(until) = until_instant(r)? {
        rule.until = Some(until_value(until, start));
    }
    let start_day = weekday_index(start.local.weekday());
    let days = r.day_of_week.unwrap_or(DaysOfWeek::day(start_day));
    let plain_days = |days: DaysOfWeek| {
        days.days()
            .map(|d| ICalendarDay {
                ordwk: None,
                weekday: ical_day(d),
            })
            .collect::<Vec<_>>()
    };
    match r.recurrence_type {
        RecurrenceType::Daily => {
            rule.freq = ICalendarFrequency::Daily;
            if let Some(days) = r.day_of_week {
                rule.byday = plain_days(days);
            }
        }
        RecurrenceType::Weekly => {
            rule.freq = ICalendarFrequency::Weekly;
            rule.byday = plain_days(days);
        }
        RecurrenceType::Monthly | RecurrenceType::Yearly => {
            rule.freq = if r.recurrence_type == RecurrenceType::Monthly {
                ICalendarFrequency::Monthly
            } else {
                ICalendarFrequency::Yearly
            };
            let day = r.day_of_month.unwrap_or(start.local.day() as u8);
            let shortest = match r.recurrence_type {
                RecurrenceType::Yearly => {
                    shortest_month(r.month_of_year.unwrap_or(start.local.month() as u8))
                }
                _ => 28,
            };
            if day > shortest {
                // Exchange's DayOfMonth falls on the last day of a month that lacks it;
                // RRULE would skip that month, so: the last of the days from the 28th.
                rule.bymonthday = (28..=day as i8).collect();
                rule.bysetpos = vec![-1];
            } else {
                rule.bymonthday = vec![day as i8];
            }
        }
        RecurrenceType::MonthlyNth | RecurrenceType::YearlyNth => {
            rule.freq = if r.recurrence_type == RecurrenceType::MonthlyNth {
                ICalendarFrequency::Monthly
            } else {
                ICalendarFrequency::Yearly
            };
            let ordinal = ordinal_of_week(r.week_of_month.unwrap_or(week_of(start.local.date())));
            if days == DaysOfWeek::ALL {
                // "The n-th day of the month"; with 5, the last day (MS-ASCAL 2.2.2.15).
                rule.bymonthday = vec![ordinal as i8];
            } else if days.days().count() == 1 {
                rule.byday = days
                    .days()
                    .map(|d| ICalendarDay {
                        ordwk: Some(ordinal),
                        weekday: ical_day(d),
                    })
                    .collect();
            } else {
                // "The first weekday", "the last weekend day": the n-th of the set.
                rule.byday = plain_days(days);
                rule.bysetpos = vec![i32::from(ordinal)];
            }
        }
    }
    if matches!(
        r.recurrence_type,
        RecurrenceType::Yearly | RecurrenceType::YearlyNth
    ) {
        let month = r.month_of_year.unwrap_or(start.local.month() as u8);
        rule.bymonth = vec![ICalendarMonth::new(month, false)];
    }
    Ok(rule)
}

/// The EAS pattern for an RRULE of an event starting at `start`; `Unsupported` for a rule
/// EAS can't carry (hourly and finer, BYYEARDAY, BYWEEKNO, several months or month days,
/// "every Tuesday of the month", RSCALE, COUNT or INTERVAL above 999).
pub fn from_rrule(
    rule: &ICalendarRecurrenceRule,
    start: &Dtstart,
) -> Result<Recurrence, RecurrenceError> {
    use RecurrenceError::Unsupported;
    if !rule.bysecond.is_empty() || !rule.byminute.is_empty() || !rule.byhour.is_empty() {
        return Err(Unsupported("BYHOUR, BYMINUTE or BYSECOND"));
    }
    if !rule.byyearday.is_empty() || !rule.byweekno.is_empty() {
        return Err(Unsupported("BYYEARDAY or BYWEEKNO"));
    }
    if rule
        .rscale
        .as_ref()
        .is_some_and(|s| *s != calcard::common::CalendarScale::Gregorian)
        || rule.skip.is_some()
    {
        return Err(Unsupported("RSCALE or SKIP"));
    }
    let clamped_day = clamped_day(rule);
    if rule.bymonth.len() > 1
        || (rule.bymonthday.len() > 1 && clamped_day.is_none())
        || rule.bysetpos.len() > 1
    {
        return Err(Unsupported("several months, month days or set positions"));
    }
    if rule.bymonth.iter().any(|m| m.is_leap()) {
        return Err(Unsupported("a leap month"));
    }
    let interval = rule.interval.unwrap_or(1).max(1);
    if interval > 999 {
        return Err(Unsupported("INTERVAL above 999"));
    }
    let mut r = Recurrence {
        interval: Some(interval),
        first_day_of_week: rule.wkst.map(eas_day),
        ..Recurrence::new(RecurrenceType::Daily)
    };
    match rule.count {
        Some(n) if n > 999 => return Err(Unsupported("COUNT above 999")),
        Some(n) if n > 0 => r.occurrences = Some(n as u16),
        _ => {}
    }
    if let Some(until) = &rule.until {
        r.until = Some(compact_datetime(until_from_value(until, start)?));
    }
    let start_date = start.local.date();
    let mut mask = 0u8;
    let mut ordinals = Vec::new();
    for day in &rule.byday {
        mask |= DaysOfWeek::day(eas_day(day.weekday)).bits();
        ordinals.push(day.ordwk);
    }
    let days = DaysOfWeek::from_bits(mask);
    let has_ordinals = ordinals.iter().any(Option::is_some);
    match rule.freq {
        ICalendarFrequency::Daily | ICalendarFrequency::Weekly => {
            if has_ordinals || !rule.bymonthday.is_empty() || !rule.bysetpos.is_empty() {
                return Err(Unsupported("ordinal days in a daily or weekly rule"));
            }
            if !rule.bymonth.is_empty() {
                return Err(Unsupported("BYMONTH in a daily or weekly rule"));
            }
            if rule.freq == ICalendarFrequency::Daily {
                r.day_of_week = days;
            } else {
                r.recurrence_type = RecurrenceType::Weekly;
                r.day_of_week =
                    Some(days.unwrap_or(DaysOfWeek::day(weekday_index(start_date.weekday()))));
            }
        }
        ICalendarFrequency::Monthly | ICalendarFrequency::Yearly => {
            let yearly = rule.freq == ICalendarFrequency::Yearly;
            if yearly {
                r.month_of_year = Some(
                    rule.bymonth
                        .first()
                        .map(|m| m.month())
                        .unwrap_or(start_date.month() as u8),
                );
            } else if !rule.bymonth.is_empty() {
                return Err(Unsupported("BYMONTH in a monthly rule"));
            }
            let nth = |r: &mut Recurrence, days: DaysOfWeek, week: u8| {
                r.recurrence_type = if yearly {
                    RecurrenceType::YearlyNth
                } else {
                    RecurrenceType::MonthlyNth
                };
                r.day_of_week = Some(days);
                r.week_of_month = Some(week);
            };
            let by_day = |r: &mut Recurrence, day: u8| {
                r.recurrence_type = if yearly {
                    RecurrenceType::Yearly
                } else {
                    RecurrenceType::Monthly
                };
                r.day_of_month = Some(day);
            };
            match (rule.bymonthday.first(), days, rule.bysetpos.first()) {
                _ if days.is_none() && clamped_day.is_some() => {
                    by_day(&mut r, clamped_day.unwrap_or(28));
                }
                (Some(&-1), None, None) => nth(&mut r, DaysOfWeek::ALL, 5),
                (Some(&d), None, None) if d > 0 => by_day(&mut r, d as u8),
                (None, None, None) => by_day(&mut r, start_date.day() as u8),
                (None, Some(days), None) if ordinals.len() == 1 && has_ordinals => {
                    let week = week_of_ordinal(i64::from(ordinals[0].unwrap_or(0)))?;
                    nth(&mut r, days, week);
                }
                (None, Some(days), Some(&pos)) if !has_ordinals => {
                    nth(&mut r, days, week_of_ordinal(i64::from(pos))?);
                }
                _ => {
                    return Err(Unsupported(
                        "this combination of BYDAY, BYMONTHDAY and BYSETPOS",
                    ))
                }
            }
        }
        _ => return Err(Unsupported("a frequency finer than daily")),
    }
    Ok(r)
}

/// The fewest days `month` has in any year.
fn shortest_month(month: u8) -> u8 {
    match month {
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The day of `BYMONTHDAY=28,29,...,d;BYSETPOS=-1` (d 29..=31): "the d-th, or the last
/// day of a shorter month", the RRULE [`to_rrule`] writes for such a DayOfMonth.
fn clamped_day(rule: &ICalendarRecurrenceRule) -> Option<u8> {
    let days = &rule.bymonthday;
    let last = *days.last()?;
    let is_range = days.len() >= 2 && days.iter().copied().eq(28..=last);
    (rule.bysetpos == [-1] && rule.byday.is_empty() && is_range && last <= 31).then_some(last as u8)
}

/// Until as an instant (MS-ASDTYPE dateTime in either form).
fn until_instant(r: &Recurrence) -> Result<Option<Timestamp>, RecurrenceError> {
    let Some(text) = r.until.as_deref() else {
        return Ok(None);
    };
    let t = parse_eas_datetime(text).ok_or(RecurrenceError::InvalidUntil)?;
    Timestamp::from_second(t.unix_timestamp())
        .map(Some)
        .map_err(|_| RecurrenceError::InvalidUntil)
}

/// UNTIL has the value type of DTSTART (RFC 5545 3.3.10): a DATE for an all-day event (the
/// local date of the instant), else a UTC date-time.
fn until_value(until: Timestamp, start: &Dtstart) -> PartialDateTime {
    let (dt, utc) = if start.all_day {
        (start.zone.to_offset(until).to_datetime(until), false)
    } else {
        (tz::Offset::UTC.to_datetime(until), true)
    };
    PartialDateTime {
        year: Some(dt.year() as u16),
        month: Some(dt.month() as u8),
        day: Some(dt.day() as u8),
        hour: (!start.all_day).then_some(dt.hour() as u8),
        minute: (!start.all_day).then_some(dt.minute() as u8),
        second: (!start.all_day).then_some(dt.second() as u8),
        tz_hour: utc.then_some(0),
        tz_minute: utc.then_some(0),
        tz_minus: false,
    }
}

/// The instant an UNTIL stands for: a UTC or offset date-time as it is; a floating one in
/// the event's zone; a DATE as that day at the event's start time (the last occurrence
/// that may still start).
fn until_from_value(v: &PartialDateTime, start: &Dtstart) -> Result<Timestamp, RecurrenceError> {
    let bad = RecurrenceError::InvalidUntil;
    let (Some(y), Some(mo), Some(d)) = (v.year, v.month, v.day) else {
        return Err(bad);
    };
    let date = Date::new(
        i16::try_from(y).map_err(|_| bad.clone())?,
        mo as i8,
        d as i8,
    )
    .map_err(|_| bad.clone())?;
    let Some(hour) = v.hour else {
        return local_instant(&start.zone, date.to_datetime(start.local.time()));
    };
    let dt = date.at(
        hour as i8,
        v.minute.unwrap_or(0) as i8,
        v.second.unwrap_or(0) as i8,
        0,
    );
    match v.tz_hour {
        Some(h) => {
            let secs = i32::from(h) * 3600 + i32::from(v.tz_minute.unwrap_or(0)) * 60;
            let offset = tz::Offset::from_seconds(if v.tz_minus { -secs } else { secs })
                .map_err(|_| bad.clone())?;
            offset.to_timestamp(dt).map_err(|_| bad)
        }
        None => local_instant(&start.zone, dt),
    }
}

/// MS-ASCAL's compact dateTime, "20261125T090000Z".
pub fn compact_datetime(at: Timestamp) -> String {
    at.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// A local time in `zone`, as RFC 5545 3.3.5 reads it: in a gap with the offset before
/// it, in a fold the first occurrence.
fn local_instant(zone: &tz::TimeZone, local: DateTime) -> Result<Timestamp, RecurrenceError> {
    zone.to_ambiguous_timestamp(local)
        .compatible()
        .map_err(|_| RecurrenceError::OutOfRange)
}

/// One occurrence: its local start in the event's zone and the instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    pub local: DateTime,
    pub start: Timestamp,
}

/// Most periods (days, weeks, months or years) walked for one expansion.
const MAX_PERIODS: i64 = 200_000;

/// The occurrences of `r` for an event starting at `start` and lasting `duration` that
/// overlap `from..to`, in order. Each keeps the start's local time of day in the start's
/// zone (09:00 in Berlin stays 09:00 after a DST change; an all-day event stays on its
/// dates). The count of Occurrences starts at the first date of the pattern on or after
/// the start (a start off the pattern is not an occurrence, as in calcard and
/// python-dateutil); Until bounds the start of the last occurrence, inclusive (RFC 5545
/// 3.3.10), and is ignored when Occurrences is set.
/// A DayOfMonth a month lacks (the 31st, February 29th) falls on its last day, as
/// Exchange reads DayOfMonth.
pub fn expand(
    r: &Recurrence,
    start: &Dtstart,
    duration: SignedDuration,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<Occurrence>, RecurrenceError> {
    check_gregorian(r)?;
    let interval = i64::from(r.interval.filter(|&i| i > 0).unwrap_or(1));
    let count = r.occurrences.filter(|&n| n > 0).map(u32::from);
    // As in the RRULE: with both ends, the count wins.
    let until = if count.is_some() {
        None
    } else {
        until_instant(r)?
    };
    let first = start.local.date();
    // A period that begins two days after `to` (in any zone's dates) has nothing in range.
    let last_date = tz::Offset::UTC
        .to_datetime(to)
        .date()
        .checked_add(jiff::Span::new().days(2))
        .map_err(|_| RecurrenceError::OutOfRange)?;
    let mut out = Vec::new();
    let mut seen = 0u32;
    for period in 0..MAX_PERIODS {
        let Ok((begins, dates)) = period_dates(r, start, period * interval) else {
            break; // past the last representable date
        };
        if begins > last_date {
            break;
        }
        for date in dates.into_iter().filter(|d| *d >= first) {
            let local = date.to_datetime(start.local.time());
            let at = local_instant(&start.zone, local)?;
            if until.is_some_and(|u| at > u) || at >= to {
                return Ok(out);
            }
            seen += 1;
            let end = at.checked_add(duration).unwrap_or(at);
            if end > from || at >= from {
                out.push(Occurrence { local, start: at });
            }
            if count.is_some_and(|n| seen >= n) {
                return Ok(out);
            }
        }
    }
    Ok(out)
}

/// The first day of the `offset`-th period after the start's, and the pattern's dates in
/// it, in order.
fn period_dates(
    r: &Recurrence,
    start: &Dtstart,
    offset: i64,
) -> Result<(Date, Vec<Date>), jiff::Error> {
    let first = start.local.date();
    let start_day = weekday_index(first.weekday());
    let days = r.day_of_week.unwrap_or(DaysOfWeek::day(start_day));
    let in_mask = |d: &Date| days.contains(weekday_index(d.weekday()));
    match r.recurrence_type {
        RecurrenceType::Daily => {
            let day = first.checked_add(jiff::Span::new().days(offset))?;
            let keep = r.day_of_week.is_none() || in_mask(&day);
            Ok((day, if keep { vec![day] } else { vec![] }))
        }
        RecurrenceType::Weekly => {
            // Weeks begin on FirstDayOfWeek (WKST, Monday by default in RFC 5545).
            let wkst = r.first_day_of_week.unwrap_or(1);
            let back = (i64::from(start_day) - i64::from(wkst)).rem_euclid(7);
            let week = first.checked_add(jiff::Span::new().days(7 * offset - back))?;
            let mut dates = Vec::new();
            for i in 0..7 {
                let d = week.checked_add(jiff::Span::new().days(i))?;
                if in_mask(&d) {
                    dates.push(d);
                }
            }
            Ok((week, dates))
        }
        RecurrenceType::Monthly | RecurrenceType::MonthlyNth => {
            let months = i64::from(first.year()) * 12 + i64::from(first.month() - 1) + offset;
            let year = i16::try_from(months.div_euclid(12)).unwrap_or(i16::MAX);
            let month = (months.rem_euclid(12) + 1) as i8;
            let begins = Date::new(year, month, 1)?;
            Ok((begins, day_in_month(r, first, begins)))
        }
        RecurrenceType::Yearly | RecurrenceType::YearlyNth => {
            let year = i16::try_from(i64::from(first.year()) + offset).unwrap_or(i16::MAX);
            let month = r.month_of_year.map_or(first.month(), |m| m as i8);
            let begins = Date::new(year, 1, 1)?;
            Ok((begins, day_in_month(r, first, Date::new(year, month, 1)?)))
        }
    }
}

/// The pattern's date in the month that begins on `month` (none if it lacks the day).
fn day_in_month(r: &Recurrence, first: Date, month: Date) -> Vec<Date> {
    match r.recurrence_type {
        RecurrenceType::MonthlyNth | RecurrenceType::YearlyNth => {
            let days = r
                .day_of_week
                .unwrap_or(DaysOfWeek::day(weekday_index(first.weekday())));
            let week = r.week_of_month.unwrap_or(week_of(first));
            let matching: Vec<Date> = (1..=month.days_in_month())
                .filter_map(|d| Date::new(month.year(), month.month(), d).ok())
                .filter(|d| days.contains(weekday_index(d.weekday())))
                .collect();
            let pick = if week >= 5 {
                matching.last()
            } else {
                matching.get(usize::from(week) - 1)
            };
            pick.copied().into_iter().collect()
        }
        _ => {
            // A day the month lacks is its last day (Exchange's DayOfMonth).
            let day = r
                .day_of_month
                .map_or(first.day(), |d| d as i8)
                .min(month.days_in_month());
            Date::new(month.year(), month.month(), day)
                .ok()
                .into_iter()
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calcard::icalendar::{ICalendar, ICalendarProperty, ICalendarValue};
    use jiff::civil::date;

    fn start_in(zone: &str, y: i16, mo: i8, d: i8, h: i8, mi: i8) -> Dtstart {
        Dtstart {
            local: date(y, mo, d).at(h, mi, 0, 0),
            zone: tz::TimeZone::get(zone).unwrap(),
            all_day: false,
        }
    }

    fn berlin(y: i16, mo: i8, d: i8) -> Dtstart {
        start_in("Europe/Berlin", y, mo, d, 9, 0)
    }

    fn utc(y: i16, mo: i8, d: i8, h: i8, mi: i8) -> Timestamp {
        tz::Offset::UTC
            .to_timestamp(date(y, mo, d).at(h, mi, 0, 0))
            .unwrap()
    }

    /// The RRULE of a whole iCalendar object, parsed by calcard as an event in the store
    /// will be.
    fn parse_rrule(text: &str) -> ICalendarRecurrenceRule {
        let ics = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nRRULE:{text}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        );
        let cal = ICalendar::parse(&ics).unwrap();
        cal.components
            .iter()
            .flat_map(|c| &c.entries)
            .find(|e| e.name == ICalendarProperty::Rrule)
            .and_then(|e| match e.values.first() {
                Some(ICalendarValue::RecurrenceRule(r)) => Some((**r).clone()),
                _ => None,
            })
            .expect("an RRULE")
    }

    fn pattern(ty: RecurrenceType) -> Recurrence {
        Recurrence {
            interval: Some(1),
            ..Recurrence::new(ty)
        }
    }

    /// Each EAS pattern, its RRULE text, and back through calcard's parser.
    #[test]
    fn each_type_both_ways() {
        let start = berlin(2026, 3, 10); // a Tuesday
        let cases: Vec<(Recurrence, &str)> = vec![
            (
                Recurrence {
                    interval: Some(2),
                    occurrences: Some(10),
                    ..pattern(RecurrenceType::Daily)
                },
                "FREQ=DAILY;COUNT=10;INTERVAL=2",
            ),
            (
                Recurrence {
                    day_of_week: Some(DaysOfWeek::WEEKDAYS),
                    ..pattern(RecurrenceType::Daily)
                },
                "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
            ),
            (
                Recurrence {
                    day_of_week: Some(
                        DaysOfWeek::MONDAY
                            .union(DaysOfWeek::WEDNESDAY)
                            .union(DaysOfWeek::FRIDAY),
                    ),
                    until: Some("20261231T080000Z".into()),
                    ..pattern(RecurrenceType::Weekly)
                },
                "FREQ=WEEKLY;UNTIL=20261231T080000Z;BYDAY=MO,WE,FR",
            ),
            (
                Recurrence {
                    day_of_month: Some(15),
                    interval: Some(3),
                    ..pattern(RecurrenceType::Monthly)
                },
                "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15",
            ),
            (
                Recurrence {
                    day_of_week: Some(DaysOfWeek::TUESDAY),
                    week_of_month: Some(2),
                    ..pattern(RecurrenceType::MonthlyNth)
                },
                "FREQ=MONTHLY;BYDAY=2TU",
            ),
            (
                // Last week of the month.
                Recurrence {
                    day_of_week: Some(DaysOfWeek::FRIDAY),
                    week_of_month: Some(5),
                    ..pattern(RecurrenceType::MonthlyNth)
                },
                "FREQ=MONTHLY;BYDAY=-1FR",
            ),
            (
                // The last day of the month (DayOfWeek 127).
                Recurrence {
                    day_of_week: Some(DaysOfWeek::ALL),
                    week_of_month: Some(5),
                    ..pattern(RecurrenceType::MonthlyNth)
                },
                "FREQ=MONTHLY;BYMONTHDAY=-1",
            ),
            (
                // The first weekday of the month.
                Recurrence {
                    day_of_week: Some(DaysOfWeek::WEEKDAYS),
                    week_of_month: Some(1),
                    ..pattern(RecurrenceType::MonthlyNth)
                },
                "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1",
            ),
            (
                Recurrence {
                    day_of_month: Some(14),
                    month_of_year: Some(3),
                    ..pattern(RecurrenceType::Yearly)
                },
                "FREQ=YEARLY;BYMONTHDAY=14;BYMONTH=3",
            ),
            (
                // The 30th, or the last day of February.
                Recurrence {
                    day_of_month: Some(30),
                    ..pattern(RecurrenceType::Monthly)
                },
                "FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1",
            ),
            (
                // 31 April is 30 April.
                Recurrence {
                    day_of_month: Some(31),
                    month_of_year: Some(4),
                    ..pattern(RecurrenceType::Yearly)
                },
                "FREQ=YEARLY;BYMONTHDAY=28,29,30,31;BYMONTH=4;BYSETPOS=-1",
            ),
            (
                // 31 May needs no care.
                Recurrence {
                    day_of_month: Some(31),
                    month_of_year: Some(5),
                    ..pattern(RecurrenceType::Yearly)
                },
                "FREQ=YEARLY;BYMONTHDAY=31;BYMONTH=5",
            ),
            (
                Recurrence {
                    day_of_week: Some(DaysOfWeek::THURSDAY),
                    week_of_month: Some(4),
                    month_of_year: Some(11),
                    ..pattern(RecurrenceType::YearlyNth)
                },
                "FREQ=YEARLY;BYDAY=4TH;BYMONTH=11",
            ),
            (
                // Last Sunday of October, every year.
                Recurrence {
                    day_of_week: Some(DaysOfWeek::SUNDAY),
                    week_of_month: Some(5),
                    month_of_year: Some(10),
                    ..pattern(RecurrenceType::YearlyNth)
                },
                "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10",
            ),
            (
                Recurrence {
                    interval: Some(2),
                    day_of_week: Some(DaysOfWeek::TUESDAY.union(DaysOfWeek::SUNDAY)),
                    first_day_of_week: Some(0),
                    ..pattern(RecurrenceType::Weekly)
                },
                "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,TU;WKST=SU",
            ),
        ];
        for (r, text) in cases {
            let rule = to_rrule(&r, &start).unwrap();
            assert_eq!(rule.to_string(), text);
            let parsed = parse_rrule(text);
            assert_eq!(parsed, rule, "{text}");
            assert_eq!(from_rrule(&parsed, &start).unwrap(), r, "{text}");
        }
    }

    #[test]
    fn until_and_occurrences() {
        let start = berlin(2026, 3, 10);
        // Both ends: the count is written.
        let both = Recurrence {
            occurrences: Some(5),
            until: Some("2026-12-31T08:00:00.000Z".into()),
            ..pattern(RecurrenceType::Daily)
        };
        assert_eq!(
            to_rrule(&both, &start).unwrap().to_string(),
            "FREQ=DAILY;COUNT=5"
        );
        // Until in the extended form is written in UTC, and comes back compact.
        let until = Recurrence {
            until: Some("2026-12-31T08:00:00.000Z".into()),
            ..pattern(RecurrenceType::Daily)
        };
        let rule = to_rrule(&until, &start).unwrap();
        assert_eq!(rule.to_string(), "FREQ=DAILY;UNTIL=20261231T080000Z");
        assert_eq!(
            from_rrule(&rule, &start).unwrap().until.as_deref(),
            Some("20261231T080000Z")
        );
        // An all-day event's UNTIL is a DATE: the local date of Until.
        let all_day = Dtstart {
            local: date(2026, 3, 10).at(0, 0, 0, 0),
            all_day: true,
            ..start.clone()
        };
        let until = Recurrence {
            until: Some("20261230T230000Z".into()),
            ..pattern(RecurrenceType::Daily)
        };
        let rule = to_rrule(&until, &all_day).unwrap();
        assert_eq!(rule.to_string(), "FREQ=DAILY;UNTIL=20261231");
        // ...and reads back as that day's start in the event's zone.
        assert_eq!(
            from_rrule(&rule, &all_day).unwrap().until.as_deref(),
            Some("20261230T230000Z")
        );
        // A floating UNTIL is local time in the event's zone; an offset one is exact.
        let floating = parse_rrule("FREQ=DAILY;UNTIL=20260701T090000");
        assert_eq!(
            from_rrule(&floating, &start).unwrap().until.as_deref(),
            Some("20260701T070000Z")
        );
        let bad = Recurrence {
            until: Some("next tuesday".into()),
            ..pattern(RecurrenceType::Daily)
        };
        assert_eq!(to_rrule(&bad, &start), Err(RecurrenceError::InvalidUntil));
    }

    #[test]
    fn missing_parts_come_from_the_start() {
        let start = berlin(2026, 3, 11); // the second Wednesday of March
        let weekly = from_rrule(&parse_rrule("FREQ=WEEKLY"), &start).unwrap();
        assert_eq!(weekly.day_of_week, Some(DaysOfWeek::WEDNESDAY));
        let monthly = from_rrule(&parse_rrule("FREQ=MONTHLY"), &start).unwrap();
        assert_eq!(monthly.recurrence_type, RecurrenceType::Monthly);
        assert_eq!(monthly.day_of_month, Some(11));
        let yearly = from_rrule(&parse_rrule("FREQ=YEARLY"), &start).unwrap();
        assert_eq!(
            (
                yearly.recurrence_type,
                yearly.month_of_year,
                yearly.day_of_month
            ),
            (RecurrenceType::Yearly, Some(3), Some(11))
        );
        // And the other way: a MonthlyNth without its days is the start's.
        let bare = pattern(RecurrenceType::MonthlyNth);
        assert_eq!(
            to_rrule(&bare, &start).unwrap().to_string(),
            "FREQ=MONTHLY;BYDAY=2WE"
        );
        let bare = pattern(RecurrenceType::Yearly);
        assert_eq!(
            to_rrule(&bare, &start).unwrap().to_string(),
            "FREQ=YEARLY;BYMONTHDAY=11;BYMONTH=3"
        );
    }

    #[test]
    fn what_does_not_convert() {
        let start = berlin(2026, 3, 10);
        for text in [
            "FREQ=HOURLY",
            "FREQ=MONTHLY;BYDAY=TU",
            "FREQ=MONTHLY;BYMONTHDAY=1,15",
            "FREQ=MONTHLY;BYMONTHDAY=29,30;BYSETPOS=-1",
            "FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=1",
            "FREQ=MONTHLY;BYDAY=5MO",
            "FREQ=YEARLY;BYMONTH=1,7",
            "FREQ=YEARLY;BYYEARDAY=100",
            "FREQ=WEEKLY;BYDAY=1MO",
            "FREQ=DAILY;COUNT=1000",
            "FREQ=DAILY;BYHOUR=9,17",
        ] {
            assert!(
                matches!(
                    from_rrule(&parse_rrule(text), &start),
                    Err(RecurrenceError::Unsupported(_))
                ),
                "{text}"
            );
        }
        let lunar = Recurrence {
            calendar_type: Some(15),
            ..pattern(RecurrenceType::Yearly)
        };
        assert!(matches!(
            to_rrule(&lunar, &start),
            Err(RecurrenceError::Unsupported(_))
        ));
        let leap = Recurrence {
            is_leap_month: Some(true),
            ..pattern(RecurrenceType::Yearly)
        };
        assert!(to_rrule(&leap, &start).is_err());
        let gregorian = Recurrence {
            calendar_type: Some(1),
            is_leap_month: Some(false),
            ..pattern(RecurrenceType::Yearly)
        };
        assert!(to_rrule(&gregorian, &start).is_ok());
    }

    fn hour() -> SignedDuration {
        SignedDuration::from_hours(1)
    }

    fn starts(list: &[Occurrence]) -> Vec<Timestamp> {
        list.iter().map(|o| o.start).collect()
    }

    /// A weekly 09:00 event keeps 09:00 local on both sides of each zone's DST changes.
    #[test]
    fn expansion_keeps_local_time_across_dst() {
        let weekly = |days| Recurrence {
            day_of_week: Some(days),
            ..pattern(RecurrenceType::Weekly)
        };
        let window = (utc(2026, 1, 1, 0, 0), utc(2027, 1, 1, 0, 0));
        // Berlin: CEST from 29 March to 25 October 2026.
        let start = berlin(2026, 3, 16);
        let all = expand(
            &weekly(DaysOfWeek::MONDAY),
            &start,
            hour(),
            window.0,
            window.1,
        )
        .unwrap();
        assert!(all.iter().all(|o| o.local.time() == start.local.time()));
        assert_eq!(
            starts(&all[..4]),
            [
                utc(2026, 3, 16, 8, 0),
                utc(2026, 3, 23, 8, 0),
                utc(2026, 3, 30, 7, 0),
                utc(2026, 4, 6, 7, 0)
            ]
        );
        let on = |d: Date| all.iter().find(|o| o.local.date() == d).unwrap().start;
        assert_eq!(on(date(2026, 10, 19)), utc(2026, 10, 19, 7, 0));
        assert_eq!(on(date(2026, 10, 26)), utc(2026, 10, 26, 8, 0));
        // New York: EDT from 8 March to 1 November 2026.
        let start = start_in("America/New_York", 2026, 3, 6, 9, 0);
        let all = expand(
            &weekly(DaysOfWeek::FRIDAY),
            &start,
            hour(),
            window.0,
            window.1,
        )
        .unwrap();
        assert_eq!(
            starts(&all[..2]),
            [utc(2026, 3, 6, 14, 0), utc(2026, 3, 13, 13, 0)]
        );
        let on = |d: Date| all.iter().find(|o| o.local.date() == d).unwrap().start;
        assert_eq!(on(date(2026, 10, 30)), utc(2026, 10, 30, 13, 0));
        assert_eq!(on(date(2026, 11, 6)), utc(2026, 11, 6, 14, 0));
        // Sydney: daylight time ends 5 April and starts 4 October 2026.
        let start = start_in("Australia/Sydney", 2026, 4, 3, 9, 0);
        let daily = pattern(RecurrenceType::Daily);
        let all = expand(&daily, &start, hour(), window.0, window.1).unwrap();
        assert_eq!(
            starts(&all[..4]),
            [
                utc(2026, 4, 2, 22, 0),
                utc(2026, 4, 3, 22, 0),
                utc(2026, 4, 4, 23, 0),
                utc(2026, 4, 5, 23, 0)
            ]
        );
        let oct: Vec<_> = all
            .iter()
            .filter(|o| o.local.date() >= date(2026, 10, 3) && o.local.date() <= date(2026, 10, 4))
            .collect();
        assert_eq!(oct[0].start, utc(2026, 10, 2, 23, 0));
        assert_eq!(oct[1].start, utc(2026, 10, 3, 22, 0));
        // Across the new year Sydney stays in daylight time (+11).
        let ny = all
            .iter()
            .find(|o| o.local.date() == date(2026, 12, 31))
            .unwrap();
        assert_eq!(ny.start, utc(2026, 12, 30, 22, 0));
        // Kolkata: +05:30 all year.
        let start = start_in("Asia/Kolkata", 2026, 1, 5, 9, 0);
        let all = expand(
            &weekly(DaysOfWeek::MONDAY),
            &start,
            hour(),
            window.0,
            window.1,
        )
        .unwrap();
        assert_eq!(all.len(), 52);
        assert!(all.iter().all(|o| {
            let t = tz::Offset::UTC.to_datetime(o.start);
            (t.hour(), t.minute()) == (3, 30)
        }));
    }

    #[test]
    fn expansion_in_the_gap_and_the_fold() {
        // A daily 02:30 event in Berlin: on 29 March 02:30 does not exist and is 03:30
        // CEST; on 25 October it happens twice and the first (CEST) is meant.
        let start = start_in("Europe/Berlin", 2026, 3, 28, 2, 30);
        let all = expand(
            &pattern(RecurrenceType::Daily),
            &start,
            hour(),
            utc(2026, 3, 1, 0, 0),
            utc(2026, 3, 31, 0, 0),
        )
        .unwrap();
        assert_eq!(
            starts(&all),
            [
                utc(2026, 3, 28, 1, 30),
                utc(2026, 3, 29, 1, 30),
                utc(2026, 3, 30, 0, 30)
            ]
        );
        let fall = start_in("Europe/Berlin", 2026, 10, 24, 2, 30);
        let all = expand(
            &pattern(RecurrenceType::Daily),
            &fall,
            hour(),
            utc(2026, 10, 1, 0, 0),
            utc(2026, 10, 27, 0, 0),
        )
        .unwrap();
        assert_eq!(
            starts(&all),
            [
                utc(2026, 10, 24, 0, 30),
                utc(2026, 10, 25, 0, 30),
                utc(2026, 10, 26, 1, 30)
            ]
        );
    }

    #[test]
    fn all_day_yearly_event_stays_on_its_date() {
        for zone in [
            "Europe/Berlin",
            "America/New_York",
            "Australia/Sydney",
            "Asia/Kolkata",
        ] {
            let start = Dtstart {
                local: date(2026, 2, 14).at(0, 0, 0, 0),
                zone: tz::TimeZone::get(zone).unwrap(),
                all_day: true,
            };
            let yearly = Recurrence {
                day_of_month: Some(14),
                month_of_year: Some(2),
                ..pattern(RecurrenceType::Yearly)
            };
            let all = expand(
                &yearly,
                &start,
                SignedDuration::from_hours(24),
                utc(2025, 1, 1, 0, 0),
                utc(2031, 1, 1, 0, 0),
            )
            .unwrap();
            let dates: Vec<Date> = all.iter().map(|o| o.local.date()).collect();
            assert_eq!(
                dates,
                (2026..=2030).map(|y| date(y, 2, 14)).collect::<Vec<_>>(),
                "{zone}"
            );
            assert!(all
                .iter()
                .all(|o| o.local.time() == jiff::civil::Time::midnight()));
        }
        // 29 February: the 28th in other years (Exchange's DayOfMonth), and the RRULE
        // says so.
        let leap = Dtstart {
            local: date(2028, 2, 29).at(0, 0, 0, 0),
            zone: tz::TimeZone::UTC,
            all_day: true,
        };
        let all = expand(
            &pattern(RecurrenceType::Yearly),
            &leap,
            SignedDuration::from_hours(24),
            utc(2028, 1, 1, 0, 0),
            utc(2037, 1, 1, 0, 0),
        )
        .unwrap();
        let dates: Vec<Date> = all.iter().map(|o| o.local.date()).collect();
        assert_eq!(dates.len(), 9);
        assert_eq!(
            dates[..5],
            [
                date(2028, 2, 29),
                date(2029, 2, 28),
                date(2030, 2, 28),
                date(2031, 2, 28),
                date(2032, 2, 29)
            ]
        );
        let rule = to_rrule(&pattern(RecurrenceType::Yearly), &leap).unwrap();
        assert_eq!(
            rule.to_string(),
            "FREQ=YEARLY;BYMONTHDAY=28,29;BYMONTH=2;BYSETPOS=-1"
        );
    }

    fn dates_of(r: &Recurrence, start: &Dtstart, to: Timestamp) -> Vec<Date> {
        expand(r, start, hour(), utc(1900, 1, 1, 0, 0), to)
            .unwrap()
            .iter()
            .map(|o| o.local.date())
            .collect()
    }

    #[test]
    fn nth_days_of_months_and_years() {
        let start = berlin(2026, 1, 1);
        let to = utc(2026, 6, 1, 0, 0);
        let last_friday = Recurrence {
            day_of_week: Some(DaysOfWeek::FRIDAY),
            week_of_month: Some(5),
            ..pattern(RecurrenceType::MonthlyNth)
        };
        assert_eq!(
            dates_of(&last_friday, &start, to),
            [
                date(2026, 1, 30),
                date(2026, 2, 27),
                date(2026, 3, 27),
                date(2026, 4, 24),
                date(2026, 5, 29)
            ]
        );
        let last_day = Recurrence {
            day_of_week: Some(DaysOfWeek::ALL),
            week_of_month: Some(5),
            ..pattern(RecurrenceType::MonthlyNth)
        };
        assert_eq!(
            dates_of(&last_day, &start, to),
            [
                date(2026, 1, 31),
                date(2026, 2, 28),
                date(2026, 3, 31),
                date(2026, 4, 30),
                date(2026, 5, 31)
            ]
        );
        let first_weekday = Recurrence {
            day_of_week: Some(DaysOfWeek::WEEKDAYS),
            week_of_month: Some(1),
            ..pattern(RecurrenceType::MonthlyNth)
        };
        assert_eq!(
            dates_of(&first_weekday, &start, to),
            [
                date(2026, 1, 1),
                date(2026, 2, 2),
                date(2026, 3, 2),
                date(2026, 4, 1),
                date(2026, 5, 1)
            ]
        );
        // The 31st: the last day of shorter months (Exchange's DayOfMonth).
        let day_31 = Recurrence {
            day_of_month: Some(31),
            ..pattern(RecurrenceType::Monthly)
        };
        assert_eq!(
            dates_of(&day_31, &start, to),
            [
                date(2026, 1, 31),
                date(2026, 2, 28),
                date(2026, 3, 31),
                date(2026, 4, 30),
                date(2026, 5, 31)
            ]
        );
        // Thanksgiving: the fourth Thursday of November.
        let thanksgiving = Recurrence {
            day_of_week: Some(DaysOfWeek::THURSDAY),
            week_of_month: Some(4),
            month_of_year: Some(11),
            ..pattern(RecurrenceType::YearlyNth)
        };
        assert_eq!(
            dates_of(&thanksgiving, &start, utc(2029, 1, 1, 0, 0)),
            [date(2026, 11, 26), date(2027, 11, 25), date(2028, 11, 23)]
        );
    }

    /// RFC 5545 3.3.10's WKST example: the week start changes which days pair up.
    #[test]
    fn first_day_of_week_changes_biweekly_pairs() {
        let start = start_in("America/New_York", 1997, 8, 5, 9, 0);
        let mut r = Recurrence {
            interval: Some(2),
            occurrences: Some(4),
            day_of_week: Some(DaysOfWeek::TUESDAY.union(DaysOfWeek::SUNDAY)),
            first_day_of_week: Some(1),
            ..pattern(RecurrenceType::Weekly)
        };
        let to = utc(1998, 1, 1, 0, 0);
        assert_eq!(
            dates_of(&r, &start, to),
            [
                date(1997, 8, 5),
                date(1997, 8, 10),
                date(1997, 8, 19),
                date(1997, 8, 24)
            ]
        );
        r.first_day_of_week = Some(0);
        assert_eq!(
            dates_of(&r, &start, to),
            [
                date(1997, 8, 5),
                date(1997, 8, 17),
                date(1997, 8, 19),
                date(1997, 8, 31)
            ]
        );
    }

    #[test]
    fn count_until_and_window() {
        let start = berlin(2026, 6, 1);
        let five = Recurrence {
            occurrences: Some(5),
            ..pattern(RecurrenceType::Daily)
        };
        // The count runs from the start, whatever the window.
        let later = expand(
            &five,
            &start,
            hour(),
            utc(2026, 6, 4, 0, 0),
            utc(2027, 1, 1, 0, 0),
        )
        .unwrap();
        assert_eq!(
            later.iter().map(|o| o.local.day()).collect::<Vec<_>>(),
            [4, 5]
        );
        // Until is inclusive: the third occurrence starts exactly then.
        let until = Recurrence {
            until: Some("20260603T070000Z".into()),
            ..pattern(RecurrenceType::Daily)
        };
        let all = expand(
            &until,
            &start,
            hour(),
            utc(2026, 1, 1, 0, 0),
            utc(2027, 1, 1, 0, 0),
        )
        .unwrap();
        assert_eq!(all.len(), 3);
        // An occurrence that began before the window and still runs is in it (free/busy).
        let overlap = expand(
            &pattern(RecurrenceType::Daily),
            &start,
            SignedDuration::from_hours(2),
            utc(2026, 6, 2, 8, 0),
            utc(2026, 6, 2, 9, 0),
        )
        .unwrap();
        assert_eq!(starts(&overlap), [utc(2026, 6, 2, 7, 0)]);
        // A window far ahead of an endless daily pattern stays small.
        let far = expand(
            &pattern(RecurrenceType::Daily),
            &start,
            hour(),
            utc(2090, 1, 1, 0, 0),
            utc(2090, 1, 8, 0, 0),
        )
        .unwrap();
        assert_eq!(far.len(), 7);
    }

    /// calcard's own RRULE expansion (a port of rust-rrule) as an independent oracle: for
    /// random patterns, the RRULE we write, expanded by calcard from an iCalendar event,
    /// gives the same instants as [`expand`] of the EAS pattern. Start times avoid 00:00 to
    /// 04:00, where gap and fold handling is tested above on its own.
    mod against_calcard {
        use super::*;
        use calcard::common::timezone::Tz;
        use proptest::prelude::*;

        const ZONES: [&str; 4] = [
            "Europe/Berlin",
            "America/New_York",
            "Australia/Sydney",
            "Asia/Kolkata",
        ];

        fn recurrence() -> impl Strategy<Value = Recurrence> {
            let ty = prop_oneof![
                Just(RecurrenceType::Daily),
                Just(RecurrenceType::Weekly),
                Just(RecurrenceType::Monthly),
                Just(RecurrenceType::MonthlyNth),
                Just(RecurrenceType::Yearly),
                Just(RecurrenceType::YearlyNth),
            ];
            (
                ty,
                1u16..=4,
                prop::option::of(1u16..=30),
                prop::option::of(1i64..=900),
                prop::option::of(1u8..=127),
                1u8..=31,
                1u8..=5,
                1u8..=12,
                prop::option::of(0u8..=6),
            )
                .prop_map(
                    |(ty, interval, count, until_days, mask, dom, week, month, wkst)| {
                        let mut r = Recurrence {
                            interval: Some(interval),
                            occurrences: count,
                            // Days after 2024-01-01, as an instant: resolved against the start
                            // in the test.
                            until: until_days.map(|d| d.to_string()),
                            first_day_of_week: wkst,
                            ..Recurrence::new(ty)
                        };
                        let mask = mask.and_then(DaysOfWeek::from_bits);
                        match ty {
                            RecurrenceType::Daily => r.day_of_week = mask,
                            RecurrenceType::Weekly => {
                                r.day_of_week = mask.or(Some(DaysOfWeek::MONDAY))
                            }
                            RecurrenceType::Monthly => r.day_of_month = Some(dom),
                            RecurrenceType::Yearly => {
                                r.day_of_month = Some(dom);
                                r.month_of_year = Some(month);
                            }
                            RecurrenceType::MonthlyNth | RecurrenceType::YearlyNth => {
                                r.day_of_week = mask.or(Some(DaysOfWeek::FRIDAY));
                                r.week_of_month = Some(week);
                                if ty == RecurrenceType::YearlyNth {
                                    r.month_of_year = Some(month);
                                }
                            }
                        }
                        r
                    },
                )
        }

        fn calcard_instants(start: &Dtstart, rule: &str, to: Timestamp) -> Vec<i64> {
            let name = start.zone.iana_name().unwrap();
            let local = start.local.strftime("%Y%m%dT%H%M%S");
            let ics = format!(
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:p\r\n\
                 DTSTART;TZID={name}:{local}\r\nDURATION:PT1H\r\nRRULE:{rule}\r\n\
                 END:VEVENT\r\nEND:VCALENDAR\r\n"
            );
            let cal = ICalendar::parse(&ics).unwrap();
            let expanded = cal.expand_dates(Tz::Floating, 5000);
            assert!(expanded.errors.is_empty(), "{:?}", expanded.errors);
            let mut all: Vec<i64> = expanded
                .events
                .iter()
                .map(|e| e.start.timestamp())
                .filter(|&t| t < to.as_second())
                .collect();
            all.sort();
            all
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]
            #[test]
            fn same_instants_as_calcard(
                mut r in recurrence(),
                zone in 0usize..4,
                (y, mo, d) in (2024i16..=2028, 1i8..=12, 1i8..=28),
                (h, mi) in (5i8..=23, prop_oneof![Just(0i8), Just(30)]),
            ) {
                let start = start_in(ZONES[zone], y, mo, d, h, mi);
                let begin = local_instant(&start.zone, start.local).unwrap();
                if let Some(days) = r.until.take() {
                    let days: i64 = days.parse().unwrap();
                    // Half a day off the occurrences' time: calcard compares a UTC UNTIL with
                    // wall-clock times, an hour off after a DST change (a 05:00 EST
                    // occurrence at 10:00Z passes UNTIL=...T090000Z there).
                    let until = begin
                        .checked_add(SignedDuration::from_hours(24 * days + 12))
                        .unwrap();
                    r.until = Some(compact_datetime(until));
                }
                let to = begin.checked_add(SignedDuration::from_hours(24 * 366 * 3)).unwrap();
                let rule = to_rrule(&r, &start).unwrap().to_string();
                let ours: Vec<i64> = expand(&r, &start, SignedDuration::ZERO, begin, to)
                    .unwrap()
                    .iter()
                    .map(|o| o.start.as_second())
                    .collect();
                prop_assert_eq!(ours, calcard_instants(&start, &rule, to), "{}", rule);
                // And the rule reads back as the same pattern.
                let back = from_rrule(&parse_rrule(&rule), &start).unwrap();
                let again = to_rrule(&back, &start).unwrap().to_string();
                prop_assert_eq!(again, rule);
            }
        }
    }
}
