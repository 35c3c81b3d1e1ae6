//! The EAS TIMEZONE blob (MS-ASDTYPE 2.7.6, typed in `easd_protocol::values::timezone`) and
//! IANA time zones (jiff with its bundled tz database).
//!
//! - [`from_iana`]: an IANA zone and a year → the blob with that year's rules, the form
//!   clients expect: each transition as a "day-of-week occurrence" SYSTEMTIME (wYear 0,
//!   wMonth, wDayOfWeek, wDay 1..=5 where 5 is the last, wHour/wMinute in the local time in
//!   force before the change; MS-DTYP 2.3.13 and TIME_ZONE_INFORMATION);
//! - [`to_iana`]: a blob and a year → the IANA zone whose offsets and transitions in that
//!   year are the blob's, preferring the zone named by the blob (an IANA name, or a Windows
//!   name such as "W. Europe Standard Time"); else "Etc/GMT±N" for a whole-hour offset
//!   without DST; else a zone of the blob's own rules ([`rules_zone`]);
//! - [`local_to_utc`] / [`utc_to_local`]: time conversion by the blob's rules alone, for a
//!   device's event whose zone matches no IANA zone. A local time in the spring-forward gap
//!   is read with the offset before the gap and an ambiguous one as its first occurrence
//!   (RFC 5545 3.3.5).
//!
//! A blob describes one pair of yearly rules; an IANA zone's rules change over the years,
//! so each conversion names the year it is for (an event's start year).

use easd_protocol::values::{SystemTime, TimeZone as EasTimeZone};
use jiff::civil::{Date, DateTime};
use jiff::tz::{self, Offset};
use jiff::Timestamp;

/// Why a blob's rules can't be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZoneRuleError {
    /// A transition date is not a valid SYSTEMTIME rule (month 1..=12, day of week 0..=6,
    /// occurrence 1..=5, a time of day; or an absolute date that does not exist).
    #[error("the TimeZone's {0} is not a valid transition date")]
    InvalidDate(&'static str),
    /// Bias plus StandardBias or DaylightBias is more than 18 hours.
    #[error("the TimeZone's bias is out of range")]
    InvalidBias,
    /// The date or time is outside what the zone can convert.
    #[error("date or time out of range")]
    OutOfRange,
}

/// Windows time zone names (as Outlook and Windows Phone put them in StandardName) and the
/// IANA zone of each (the "001" territory of CLDR's windowsZones). The order is also the
/// preference among IANA zones that share rules when the blob names none of them.
const WINDOWS_ZONES: &[(&str, &str)] = &[
    ("UTC", "Etc/UTC"),
    ("GMT Standard Time", "Europe/London"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Romance Standard Time", "Europe/Paris"),
    ("Central Europe Standard Time", "Europe/Budapest"),
    ("Central European Standard Time", "Europe/Warsaw"),
    ("GTB Standard Time", "Europe/Bucharest"),
    ("FLE Standard Time", "Europe/Kyiv"),
    ("E. Europe Standard Time", "Europe/Chisinau"),
    ("Turkey Standard Time", "Europe/Istanbul"),
    ("Russian Standard Time", "Europe/Moscow"),
    ("Greenwich Standard Time", "Atlantic/Reykjavik"),
    ("Eastern Standard Time", "America/New_York"),
    ("Central Standard Time", "America/Chicago"),
    ("Mountain Standard Time", "America/Denver"),
    ("US Mountain Standard Time", "America/Phoenix"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("Alaskan Standard Time", "America/Anchorage"),
    ("Hawaiian Standard Time", "Pacific/Honolulu"),
    ("Atlantic Standard Time", "America/Halifax"),
    ("Newfoundland Standard Time", "America/St_Johns"),
    ("Central Standard Time (Mexico)", "America/Mexico_City"),
    ("E. South America Standard Time", "America/Sao_Paulo"),
    ("Argentina Standard Time", "America/Argentina/Buenos_Aires"),
    ("AUS Eastern Standard Time", "Australia/Sydney"),
    ("E. Australia Standard Time", "Australia/Brisbane"),
    ("Cen. Australia Standard Time", "Australia/Adelaide"),
    ("AUS Central Standard Time", "Australia/Darwin"),
    ("W. Australia Standard Time", "Australia/Perth"),
    ("Tasmania Standard Time", "Australia/Hobart"),
    ("New Zealand Standard Time", "Pacific/Auckland"),
    ("India Standard Time", "Asia/Kolkata"),
    ("Nepal Standard Time", "Asia/Kathmandu"),
    ("China Standard Time", "Asia/Shanghai"),
    ("Tokyo Standard Time", "Asia/Tokyo"),
    ("Korea Standard Time", "Asia/Seoul"),
    ("Singapore Standard Time", "Asia/Singapore"),
    ("SE Asia Standard Time", "Asia/Bangkok"),
    ("Arabian Standard Time", "Asia/Dubai"),
    ("Israel Standard Time", "Asia/Jerusalem"),
    ("Egypt Standard Time", "Africa/Cairo"),
    ("South Africa Standard Time", "Africa/Johannesburg"),
];

/// The name a blob carries for `zone`: its Windows name when it is the IANA zone of one
/// (Windows clients look the zone up by it), else the IANA name itself. Either is read back
/// by [`to_iana`].
fn blob_names(zone: &tz::TimeZone) -> (String, String) {
    let Some(iana) = zone.iana_name() else {
        return (String::new(), String::new());
    };
    if let Some((windows, _)) = WINDOWS_ZONES.iter().find(|(_, i)| *i == iana) {
        let daylight = windows.replace("Standard Time", "Daylight Time");
        return (windows.to_string(), daylight);
    }
    if iana.encode_utf16().count() <= easd_protocol::values::timezone::NAME_UNITS {
        (iana.to_string(), iana.to_string())
    } else {
        (String::new(), String::new())
    }
}

/// The blob for `zone` with its rules of `year`. A zone without a DST change that year has
/// StandardDate and DaylightDate month 0. Of a year's transitions the first into the
/// larger offset and the last back to the smaller one are taken (the larger offset is
/// daylight time, whatever the tz database calls it: Europe/Dublin's winter time is its
/// "negative DST").
pub fn from_iana(zone: &tz::TimeZone, year: i16) -> Result<EasTimeZone, ZoneRuleError> {
    let (start, end) = year_bounds(year)?;
    let transitions: Vec<(Timestamp, Offset)> = zone
        .following(start)
        .take_while(|t| t.timestamp() < end)
        .map(|t| (t.timestamp(), t.offset()))
        .collect();
    let (standard_name, daylight_name) = blob_names(zone);
    let offset_at_start = zone.to_offset(start);
    let mut offsets: Vec<Offset> = transitions.iter().map(|t| t.1).collect();
    offsets.push(offset_at_start);
    let standard = offsets.iter().copied().min().unwrap_or(offset_at_start);
    let daylight = offsets.iter().copied().max().unwrap_or(offset_at_start);
    let into_daylight = transitions
        .iter()
        .find(|t| t.1 == daylight && daylight != standard);
    let into_standard = transitions.iter().rev().find(|t| t.1 == standard);
    let bias = -standard.seconds() / 60;
    let (Some(&(dst_at, _)), Some(&(std_at, _))) = (into_daylight, into_standard) else {
        // No DST this year: one offset, the one in force for most of the year.
        let mid = zone.to_offset(
            start
                .checked_add(jiff::SignedDuration::from_hours(183 * 24))
                .map_err(|_| ZoneRuleError::OutOfRange)?,
        );
        return Ok(EasTimeZone {
            bias: -mid.seconds() / 60,
            standard_name,
            daylight_name,
            ..EasTimeZone::default()
        });
    };
    Ok(EasTimeZone {
        bias,
        standard_name,
        // Daylight time ends at this wall-clock time in daylight time...
        standard_date: rule_of(local(std_at, daylight)),
        standard_bias: 0,
        daylight_name,
        // ...and begins at this one in standard time.
        daylight_date: rule_of(local(dst_at, standard)),
        daylight_bias: -(daylight.seconds() - standard.seconds()) / 60,
    })
}

/// A transition's wall-clock time as the day-of-week occurrence rule that gives it: the
/// n-th weekday of the month, 5 when it is the month's last such weekday.
fn rule_of(at: DateTime) -> SystemTime {
    let day = at.day();
    let week = if day + 7 > at.days_in_month() {
        5
    } else {
        (day - 1) / 7 + 1
    };
    SystemTime {
        year: 0,
        month: at.month() as u16,
        day_of_week: at.weekday().to_sunday_zero_offset() as u16,
        day: week as u16,
        hour: at.hour() as u16,
        minute: at.minute() as u16,
        second: at.second() as u16,
        milliseconds: 0,
    }
}

fn local(at: Timestamp, offset: Offset) -> DateTime {
    offset.to_datetime(at)
}

fn year_bounds(year: i16) -> Result<(Timestamp, Timestamp), ZoneRuleError> {
    let at = |y: i16| {
        Date::new(y, 1, 1)
            .and_then(|d| d.to_zoned_datetime(tz::TimeZone::UTC))
            .map(|z| z.timestamp())
            .map_err(|_| ZoneRuleError::OutOfRange)
    };
    Ok((
        at(year)?,
        at(year.checked_add(1).ok_or(ZoneRuleError::OutOfRange)?)?,
    ))
}

/// A zone that follows the blob's rules in every year: a POSIX TZ rule built from the
/// blob, so that jiff computes transitions, gaps and folds. Offsets are Bias +
/// StandardBias and Bias + DaylightBias (UTC = local time + bias, MS-ASDTYPE 2.7.6);
/// POSIX offsets count west of UTC too, so the minutes carry over with their sign.
pub fn rules_zone(blob: &EasTimeZone) -> Result<tz::TimeZone, ZoneRuleError> {
    let standard = blob
        .bias
        .checked_add(blob.standard_bias)
        .ok_or(ZoneRuleError::InvalidBias)?;
    let daylight = blob
        .bias
        .checked_add(blob.daylight_bias)
        .ok_or(ZoneRuleError::InvalidBias)?;
    if standard.abs() > 18 * 60 || daylight.abs() > 18 * 60 {
        return Err(ZoneRuleError::InvalidBias);
    }
    if !blob.has_dst() || standard == daylight {
        let offset =
            Offset::from_seconds(-standard * 60).map_err(|_| ZoneRuleError::InvalidBias)?;
        return Ok(tz::TimeZone::fixed(offset));
    }
    let start = posix_rule(&blob.daylight_date, "DaylightDate")?;
    let end = posix_rule(&blob.standard_date, "StandardDate")?;
    let text = format!(
        "<STD>{}<DST>{},{start},{end}",
        posix_offset(standard),
        posix_offset(daylight)
    );
    tz::TimeZone::posix(&text).map_err(|_| ZoneRuleError::InvalidDate("rule"))
}

fn posix_offset(minutes_west: i32) -> String {
    let sign = if minutes_west < 0 { "-" } else { "" };
    let m = minutes_west.abs();
    format!("{sign}{}:{:02}", m / 60, m % 60)
}

/// A SYSTEMTIME as a POSIX date rule: "Mm.w.d/time" for the day-of-week form (wYear 0), or
/// the zero-based day of the year "n/time" for an absolute date (that year's day number,
/// applied every year).
fn posix_rule(st: &SystemTime, field: &'static str) -> Result<String, ZoneRuleError> {
    let bad = ZoneRuleError::InvalidDate(field);
    if !(1..=12).contains(&st.month) || st.hour > 23 || st.minute > 59 || st.second > 59 {
        return Err(bad);
    }
    let time = format!("{}:{:02}:{:02}", st.hour, st.minute, st.second);
    if st.year == 0 {
        if st.day_of_week > 6 || !(1..=5).contains(&st.day) {
            return Err(bad);
        }
        Ok(format!(
            "M{}.{}.{}/{time}",
            st.month, st.day, st.day_of_week
        ))
    } else {
        let year = i16::try_from(st.year).map_err(|_| bad.clone())?;
        let day = i8::try_from(st.day).map_err(|_| bad.clone())?;
        let date = Date::new(year, st.month as i8, day).map_err(|_| bad)?;
        Ok(format!("{}/{time}", date.day_of_year() - 1))
    }
}

/// UTC for a local time of a device whose zone is `blob`.
pub fn local_to_utc(blob: &EasTimeZone, local: DateTime) -> Result<Timestamp, ZoneRuleError> {
    rules_zone(blob)?
        .to_ambiguous_timestamp(local)
        .compatible()
        .map_err(|_| ZoneRuleError::OutOfRange)
}

/// The local time of a device whose zone is `blob` at `at`.
pub fn utc_to_local(blob: &EasTimeZone, at: Timestamp) -> Result<DateTime, ZoneRuleError> {
    let zone = rules_zone(blob)?;
    Ok(zone.to_offset(at).to_datetime(at))
}

/// The IANA zone that `blob` stands for in `year`: a zone whose offset at the start of the
/// year and whose transitions during it are exactly the blob's. Among several, the one
/// the blob names (StandardName as an IANA or Windows name), then the first of
/// [`WINDOWS_ZONES`]; a blob without DST then gets "Etc/GMT±N" for a whole-hour offset
/// (a fixed offset, rather than some city's zone that happens to have it); else the first
/// zone by name. Without any match, [`rules_zone`]: a zone without an IANA name.
pub fn to_iana(blob: &EasTimeZone, year: i16) -> Result<tz::TimeZone, ZoneRuleError> {
    let rules = rules_zone(blob)?;
    let want = year_signature(&rules, year)?;
    let matches = |zone: &tz::TimeZone| year_signature(zone, year).is_ok_and(|s| s == want);

    let named = blob.standard_name.trim();
    let by_windows_name = WINDOWS_ZONES
        .iter()
        .find(|(w, _)| *w == named)
        .map(|(_, iana)| *iana);
    for name in [Some(named), by_windows_name].into_iter().flatten() {
        if let Ok(zone) = tz::TimeZone::get(name) {
            if matches(&zone) {
                return Ok(zone);
            }
        }
    }
    for (_, name) in WINDOWS_ZONES {
        if let Ok(zone) = tz::TimeZone::get(name) {
            if matches(&zone) {
                return Ok(zone);
            }
        }
    }
    if want.1.is_empty() {
        if let Some(zone) = etc_gmt(want.0) {
            return Ok(zone);
        }
    }
    let mut names: Vec<String> = tz::db()
        .available()
        .map(|n| n.as_str().to_string())
        .filter(|n| is_geographic(n))
        .collect();
    names.sort();
    for name in names {
        if let Ok(zone) = tz::TimeZone::get(&name) {
            if matches(&zone) {
                return Ok(zone);
            }
        }
    }
    Ok(rules)
}

/// "Etc/GMT±N" for a whole-hour offset (POSIX-style names: Etc/GMT-1 is one hour east of
/// UTC; the database has -14..=+12).
fn etc_gmt(offset: Offset) -> Option<tz::TimeZone> {
    if offset.seconds() % 3600 != 0 {
        return None;
    }
    let name = match offset.seconds() / 3600 {
        0 => "Etc/UTC".to_string(),
        h if h > 0 => format!("Etc/GMT-{h}"),
        h => format!("Etc/GMT+{}", -h),
    };
    tz::TimeZone::get(&name).ok()
}

/// Region/City names only: not the legacy aliases ("CET", "US/Eastern", "EST5EDT").
fn is_geographic(name: &str) -> bool {
    const REGIONS: &[&str] = &[
        "Africa/",
        "America/",
        "Antarctica/",
        "Asia/",
        "Atlantic/",
        "Australia/",
        "Europe/",
        "Indian/",
        "Pacific/",
    ];
    REGIONS.iter().any(|r| name.starts_with(r))
}

/// What a zone does in a year: its offset at the start and each transition (instant and
/// new offset) before the next year begins.
type YearSignature = (Offset, Vec<(Timestamp, Offset)>);

fn year_signature(zone: &tz::TimeZone, year: i16) -> Result<YearSignature, ZoneRuleError> {
    let (start, end) = year_bounds(year)?;
    let mut offset = zone.to_offset(start);
    let first = offset;
    let mut transitions = Vec::new();
    for t in zone.following(start).take_while(|t| t.timestamp() < end) {
        // A change of name or DST flag alone is no change of the clock.
        if t.offset() != offset {
            transitions.push((t.timestamp(), t.offset()));
            offset = t.offset();
        }
    }
    Ok((first, transitions))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn zone(name: &str) -> tz::TimeZone {
        tz::TimeZone::get(name).unwrap()
    }

    fn rule(month: u16, week: u16, hour: u16) -> SystemTime {
        SystemTime {
            month,
            day: week,
            hour,
            ..SystemTime::default()
        }
    }

    fn utc(y: i16, mo: i8, d: i8, h: i8, mi: i8) -> Timestamp {
        date(y, mo, d)
            .at(h, mi, 0, 0)
            .to_zoned_datetime(tz::TimeZone::UTC)
            .unwrap()
            .timestamp()
    }

    /// Every hour of the year (and the minutes around each transition), the blob's own
    /// rules give the IANA zone's offset.
    fn assert_blob_follows_zone(blob: &EasTimeZone, zone: &tz::TimeZone, year: i16) {
        let rules = rules_zone(blob).unwrap();
        let (start, end) = year_bounds(year).unwrap();
        let mut at = start;
        while at < end {
            assert_eq!(
                rules.to_offset(at),
                zone.to_offset(at),
                "{:?} at {at}",
                zone.iana_name()
            );
            at = at.checked_add(jiff::SignedDuration::from_hours(1)).unwrap();
        }
        for t in zone.following(start).take_while(|t| t.timestamp() < end) {
            for minutes in [-61, -1, 0, 1, 59, 60, 61] {
                let at = t
                    .timestamp()
                    .checked_add(jiff::SignedDuration::from_mins(minutes))
                    .unwrap();
                assert_eq!(
                    utc_to_local(blob, at).unwrap(),
                    zone.to_offset(at).to_datetime(at)
                );
            }
        }
    }

    #[test]
    fn berlin_has_the_european_rule() {
        for year in [2026, 2027] {
            let blob = from_iana(&zone("Europe/Berlin"), year).unwrap();
            assert_eq!(blob.bias, -60);
            assert_eq!(blob.standard_bias, 0);
            assert_eq!(blob.daylight_bias, -60);
            // Last Sunday of March 02:00 (CET) and of October 03:00 (CEST), even in 2027
            // when the last Sunday of March is the 28th (the fourth Sunday).
            assert_eq!(blob.daylight_date, rule(3, 5, 2));
            assert_eq!(blob.standard_date, rule(10, 5, 3));
            assert_eq!(blob.standard_name, "W. Europe Standard Time");
            assert_eq!(blob.daylight_name, "W. Europe Daylight Time");
            assert_blob_follows_zone(&blob, &zone("Europe/Berlin"), year);
        }
    }

    #[test]
    fn new_york_has_the_us_rule() {
        for year in [2026, 2027] {
            let blob = from_iana(&zone("America/New_York"), year).unwrap();
            assert_eq!(blob.bias, 300);
            assert_eq!(blob.daylight_bias, -60);
            // Second Sunday of March and first Sunday of November, 02:00 local.
            assert_eq!(blob.daylight_date, rule(3, 2, 2));
            assert_eq!(blob.standard_date, rule(11, 1, 2));
            assert_eq!(blob.standard_name, "Eastern Standard Time");
            assert_blob_follows_zone(&blob, &zone("America/New_York"), year);
        }
        // The rules of the year: before 2007, the first Sunday of April to the last
        // Sunday of October.
        let blob = from_iana(&zone("America/New_York"), 2006).unwrap();
        assert_eq!(blob.daylight_date, rule(4, 1, 2));
        assert_eq!(blob.standard_date, rule(10, 5, 2));
        assert_blob_follows_zone(&blob, &zone("America/New_York"), 2006);
        assert_eq!(
            to_iana(&blob, 2006).unwrap().iana_name(),
            Some("America/New_York")
        );
        // The 2026 blob read for 2006 matches no zone's 2006: its own rules.
        let blob = from_iana(&zone("America/New_York"), 2026).unwrap();
        assert_eq!(to_iana(&blob, 2006).unwrap().iana_name(), None);
    }

    #[test]
    fn sydney_has_dst_across_new_year() {
        for year in [2026, 2027] {
            let blob = from_iana(&zone("Australia/Sydney"), year).unwrap();
            assert_eq!(blob.bias, -600);
            assert_eq!(blob.daylight_bias, -60);
            // Daylight time begins on the first Sunday of October at 02:00 AEST and ends on
            // the first Sunday of April at 03:00 AEDT.
            assert_eq!(blob.daylight_date, rule(10, 1, 2));
            assert_eq!(blob.standard_date, rule(4, 1, 3));
            assert_blob_follows_zone(&blob, &zone("Australia/Sydney"), year);
        }
        // New Year's Day is in daylight time (+11).
        let blob = from_iana(&zone("Australia/Sydney"), 2026).unwrap();
        assert_eq!(
            utc_to_local(&blob, utc(2026, 1, 1, 0, 0)).unwrap(),
            date(2026, 1, 1).at(11, 0, 0, 0)
        );
    }

    #[test]
    fn kolkata_has_no_dst() {
        for year in [2026, 2027] {
            let blob = from_iana(&zone("Asia/Kolkata"), year).unwrap();
            assert_eq!(blob.bias, -330);
            assert!(!blob.has_dst());
            assert_eq!(blob.standard_date.month, 0);
            assert_eq!(blob.daylight_date.month, 0);
            assert_eq!(blob.standard_name, "India Standard Time");
            assert_blob_follows_zone(&blob, &zone("Asia/Kolkata"), year);
            assert_eq!(
                utc_to_local(&blob, utc(year, 7, 1, 12, 0)).unwrap(),
                date(year, 7, 1).at(17, 30, 0, 0)
            );
        }
    }

    #[test]
    fn round_trip_iana_blob_iana() {
        for name in [
            "Europe/Berlin",
            "America/New_York",
            "Australia/Sydney",
            "Asia/Kolkata",
            // Not Windows-table zones: their IANA name travels in StandardName.
            "Europe/Amsterdam",
            "America/Toronto",
            "Europe/Dublin",
        ] {
            for year in [2026, 2027] {
                let blob = from_iana(&zone(name), year).unwrap();
                // Through the bytes, as a client would store and send it back.
                let blob = EasTimeZone::from_base64(&blob.to_base64().unwrap()).unwrap();
                assert_eq!(
                    to_iana(&blob, year).unwrap().iana_name(),
                    Some(name),
                    "{year}"
                );
            }
        }
        // Dublin's winter is "negative DST" in the tz database; the blob still has the
        // larger offset as daylight time.
        let dublin = from_iana(&zone("Europe/Dublin"), 2026).unwrap();
        assert_eq!((dublin.bias, dublin.daylight_bias), (0, -60));
        assert_eq!(dublin.daylight_date, rule(3, 5, 1));
        assert_eq!(dublin.standard_date, rule(10, 5, 2));
    }

    /// Builds a blob byte by byte by the MS-ASDTYPE 2.7.6 layout, as a client sends it.
    fn blob_bytes(
        bias: i32,
        standard_name: &str,
        standard_date: [u16; 8],
        daylight_name: &str,
        daylight_date: [u16; 8],
        daylight_bias: i32,
    ) -> Vec<u8> {
        let name = |n: &str| {
            let mut b: Vec<u8> = n.encode_utf16().flat_map(u16::to_le_bytes).collect();
            b.resize(64, 0);
            b
        };
        let st = |w: [u16; 8]| w.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let mut b = Vec::new();
        b.extend(bias.to_le_bytes());
        b.extend(name(standard_name));
        b.extend(st(standard_date));
        b.extend(0i32.to_le_bytes());
        b.extend(name(daylight_name));
        b.extend(st(daylight_date));
        b.extend(daylight_bias.to_le_bytes());
        assert_eq!(b.len(), 172);
        b
    }

    fn w_europe(name: &str, daylight_name: &str) -> EasTimeZone {
        // wYear, wMonth, wDayOfWeek, wDay, wHour, wMinute, wSecond, wMilliseconds
        let bytes = blob_bytes(
            -60,
            name,
            [0, 10, 0, 5, 3, 0, 0, 0],
            daylight_name,
            [0, 3, 0, 5, 2, 0, 0, 0],
            -60,
        );
        EasTimeZone::from_bytes(&bytes).unwrap()
    }

    #[test]
    fn outlook_blobs_map_to_their_zones() {
        let berlin = w_europe("W. Europe Standard Time", "W. Europe Daylight Time");
        for year in [2026, 2027] {
            assert_eq!(
                to_iana(&berlin, year).unwrap().iana_name(),
                Some("Europe/Berlin")
            );
        }
        let eastern = EasTimeZone::from_bytes(&blob_bytes(
            300,
            "Eastern Standard Time",
            [0, 11, 0, 1, 2, 0, 0, 0],
            "Eastern Daylight Time",
            [0, 3, 0, 2, 2, 0, 0, 0],
            -60,
        ))
        .unwrap();
        for year in [2026, 2027] {
            assert_eq!(
                to_iana(&eastern, year).unwrap().iana_name(),
                Some("America/New_York")
            );
        }
        // The same rules under another Windows name: that zone.
        let paris = w_europe("Romance Standard Time", "Romance Daylight Time");
        assert_eq!(
            to_iana(&paris, 2026).unwrap().iana_name(),
            Some("Europe/Paris")
        );
        // Without names (some iOS versions): the preferred zone with these rules.
        let unnamed = w_europe("", "");
        assert_eq!(
            to_iana(&unnamed, 2026).unwrap().iana_name(),
            Some("Europe/Berlin")
        );
        // A name that contradicts the rules loses to the rules.
        let wrong = EasTimeZone {
            standard_name: "W. Europe Standard Time".into(),
            ..eastern.clone()
        };
        assert_eq!(
            to_iana(&wrong, 2026).unwrap().iana_name(),
            Some("America/New_York")
        );
    }

    #[test]
    fn fixed_offsets_and_custom_rules() {
        // -12:00 without DST: no city has it, so the Etc zone.
        let blob = EasTimeZone {
            bias: 720,
            ..EasTimeZone::default()
        };
        assert_eq!(
            to_iana(&blob, 2026).unwrap().iana_name(),
            Some("Etc/GMT+12")
        );
        let blob = EasTimeZone {
            bias: -60,
            ..EasTimeZone::default()
        };
        assert_eq!(to_iana(&blob, 2026).unwrap().iana_name(), Some("Etc/GMT-1"));
        assert_eq!(
            to_iana(&EasTimeZone::default(), 2026).unwrap().iana_name(),
            Some("Etc/UTC")
        );
        // +05:45 without DST and without a name: Kathmandu, from the table.
        let blob = EasTimeZone {
            bias: -345,
            ..EasTimeZone::default()
        };
        assert_eq!(
            to_iana(&blob, 2026).unwrap().iana_name(),
            Some("Asia/Kathmandu")
        );
        // A rule no zone has (DST from the first Sunday of March): the blob's own rules.
        let custom = EasTimeZone {
            bias: -60,
            standard_date: rule(10, 5, 3),
            daylight_date: rule(3, 1, 2),
            daylight_bias: -60,
            ..EasTimeZone::default()
        };
        let zone = to_iana(&custom, 2026).unwrap();
        assert_eq!(zone.iana_name(), None);
        // 2026-03-01 is a Sunday: 02:00 CET = 01:00 UTC becomes 03:00.
        assert_eq!(zone.to_offset(utc(2026, 3, 1, 0, 59)).seconds(), 3600);
        assert_eq!(zone.to_offset(utc(2026, 3, 1, 1, 0)).seconds(), 7200);
    }

    #[test]
    fn local_time_across_the_gap_and_the_fold() {
        let blob = w_europe("", "");
        let at = |h, mi| date(2026, 3, 29).at(h, mi, 0, 0);
        // The hour before and after the spring change (01:00 UTC).
        assert_eq!(
            local_to_utc(&blob, at(1, 59)).unwrap(),
            utc(2026, 3, 29, 0, 59)
        );
        assert_eq!(
            local_to_utc(&blob, at(3, 0)).unwrap(),
            utc(2026, 3, 29, 1, 0)
        );
        // 02:30 does not exist; it is read with the offset before the gap (RFC 5545 3.3.5).
        assert_eq!(
            local_to_utc(&blob, at(2, 30)).unwrap(),
            utc(2026, 3, 29, 1, 30)
        );
        assert_eq!(
            utc_to_local(&blob, utc(2026, 3, 29, 0, 59)).unwrap(),
            at(1, 59)
        );
        assert_eq!(
            utc_to_local(&blob, utc(2026, 3, 29, 1, 0)).unwrap(),
            at(3, 0)
        );
        // Autumn: 02:30 happens twice; the first one (CEST) is meant.
        let at = |h, mi| date(2026, 10, 25).at(h, mi, 0, 0);
        assert_eq!(
            local_to_utc(&blob, at(2, 30)).unwrap(),
            utc(2026, 10, 25, 0, 30)
        );
        assert_eq!(
            local_to_utc(&blob, at(3, 0)).unwrap(),
            utc(2026, 10, 25, 2, 0)
        );
        assert_eq!(
            utc_to_local(&blob, utc(2026, 10, 25, 0, 30)).unwrap(),
            at(2, 30)
        );
        assert_eq!(
            utc_to_local(&blob, utc(2026, 10, 25, 1, 30)).unwrap(),
            at(2, 30)
        );
        // Sydney's autumn fold is in April, its gap in October.
        let sydney = from_iana(&zone("Australia/Sydney"), 2026).unwrap();
        let apr = date(2026, 4, 5).at(2, 30, 0, 0);
        assert_eq!(local_to_utc(&sydney, apr).unwrap(), utc(2026, 4, 4, 15, 30));
        let oct = date(2026, 10, 4).at(2, 30, 0, 0);
        assert_eq!(
            local_to_utc(&sydney, oct).unwrap(),
            utc(2026, 10, 3, 16, 30)
        );
    }

    #[test]
    fn invalid_blobs_are_errors() {
        let base = w_europe("", "");
        let mut bad_month = base.clone();
        bad_month.daylight_date.month = 13;
        assert_eq!(
            rules_zone(&bad_month),
            Err(ZoneRuleError::InvalidDate("DaylightDate"))
        );
        let mut bad_week = base.clone();
        bad_week.standard_date.day = 6;
        assert_eq!(
            rules_zone(&bad_week),
            Err(ZoneRuleError::InvalidDate("StandardDate"))
        );
        let mut bad_dow = base.clone();
        bad_dow.standard_date.day_of_week = 7;
        assert!(rules_zone(&bad_dow).is_err());
        let mut bad_hour = base.clone();
        bad_hour.daylight_date.hour = 24;
        assert!(rules_zone(&bad_hour).is_err());
        let mut bad_bias = base.clone();
        bad_bias.bias = i32::MAX;
        assert_eq!(rules_zone(&bad_bias), Err(ZoneRuleError::InvalidBias));
        bad_bias.bias = 19 * 60;
        assert_eq!(
            to_iana(&bad_bias, 2026).err(),
            Some(ZoneRuleError::InvalidBias)
        );
        let mut absolute = base.clone();
        absolute.daylight_date = SystemTime {
            year: 2026,
            month: 2,
            day: 30,
            ..SystemTime::default()
        };
        assert!(rules_zone(&absolute).is_err());
        // An absolute date that exists: DST from 2026-03-29 02:00, as the rule says.
        absolute.daylight_date.month = 3;
        absolute.daylight_date.day = 29;
        absolute.daylight_date.hour = 2;
        assert_eq!(
            to_iana(&absolute, 2026).unwrap().iana_name(),
            Some("Europe/Berlin")
        );
    }

    /// Every geographic zone of the database whose year has no DST or one DST period:
    /// its blob for the year reproduces the year's offsets, and reads back as a zone that
    /// does the same that year (by name, and for a sample without names, by rules alone).
    #[test]
    fn every_zone_with_simple_rules() {
        let mut names: Vec<String> = tz::db()
            .available()
            .map(|n| n.as_str().to_string())
            .filter(|n| is_geographic(n))
            .collect();
        names.sort();
        let mut checked = 0;
        for (i, name) in names.iter().enumerate() {
            let zone = zone(name);
            for year in [2025, 2027] {
                let (offset, transitions) = year_signature(&zone, year).unwrap();
                let simple = match transitions.as_slice() {
                    [] => true,
                    [(_, a), (_, b)] => *b == offset && *a != offset,
                    _ => false,
                };
                if !simple {
                    continue;
                }
                checked += 1;
                let blob = from_iana(&zone, year).unwrap();
                let rules = rules_zone(&blob).unwrap();
                assert_eq!(
                    year_signature(&rules, year).unwrap(),
                    (offset, transitions.clone()),
                    "{name} {year}"
                );
                let back = to_iana(&blob, year).unwrap();
                assert_eq!(
                    year_signature(&back, year).unwrap(),
                    (offset, transitions.clone()),
                    "{name} {year}"
                );
                if i % 25 == 0 {
                    let unnamed = EasTimeZone {
                        standard_name: String::new(),
                        daylight_name: String::new(),
                        ..blob
                    };
                    let back = to_iana(&unnamed, year).unwrap();
                    assert!(back.iana_name().is_some(), "{name} {year}");
                    assert_eq!(
                        year_signature(&back, year).unwrap(),
                        (offset, transitions),
                        "{name} {year}"
                    );
                }
            }
        }
        assert!(checked > 600, "{checked}");
    }
}
