//! A recurrence pattern (MS-ASCAL 2.2.2.37 Recurrence and its children; the same element
//! in the Email namespace for meeting requests, MS-ASEMAIL 2.2.2.60, and in Tasks,
//! MS-ASTASK 2.2.2.18). One type for the three namespaces: [`RecurrenceTags`] names the
//! tags of each.
//!
//! What a pattern means as an iCalendar RRULE, and its occurrences, is
//! engine/content/recurrence.rs.

use crate::element::{invalid_value, parse_value, ElementExt};
use crate::error::ParseError;
use crate::macros::code_enum;
use crate::version::ProtocolVersion;
use easd_wbxml::tags::{calendar, email, email2, tasks};
use easd_wbxml::{Element, Tag};

code_enum! {
    /// The kind of pattern (MS-ASCAL 2.2.2.45 Type; 4 is not used).
    RecurrenceType: u8 {
        /// Every `interval` days (or on the days of `day_of_week`).
        Daily = 0,
        /// Every `interval` weeks on the days of `day_of_week`.
        Weekly = 1,
        /// On `day_of_month` every `interval` months.
        Monthly = 2,
        /// On the `week_of_month`-th `day_of_week` every `interval` months.
        MonthlyNth = 3,
        /// On `day_of_month` of `month_of_year` every `interval` years.
        Yearly = 5,
        /// On the `week_of_month`-th `day_of_week` of `month_of_year`.
        YearlyNth = 6,
    }
}

/// The DayOfWeek bitmask (MS-ASCAL 2.2.2.15): Sunday 1, Monday 2, Tuesday 4, Wednesday 8,
/// Thursday 16, Friday 32, Saturday 64. 62 is "weekdays", 65 "weekend days", and 127 with
/// WeekOfMonth 5 "the last day of the month".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DaysOfWeek(u8);

impl DaysOfWeek {
    pub const SUNDAY: DaysOfWeek = DaysOfWeek(1);
    pub const MONDAY: DaysOfWeek = DaysOfWeek(2);
    pub const TUESDAY: DaysOfWeek = DaysOfWeek(4);
    pub const WEDNESDAY: DaysOfWeek = DaysOfWeek(8);
    pub const THURSDAY: DaysOfWeek = DaysOfWeek(16);
    pub const FRIDAY: DaysOfWeek = DaysOfWeek(32);
    pub const SATURDAY: DaysOfWeek = DaysOfWeek(64);
    pub const WEEKDAYS: DaysOfWeek = DaysOfWeek(62);
    pub const ALL: DaysOfWeek = DaysOfWeek(127);

    /// A mask of 1..=127; 0 (no day) and values above 127 are not valid.
    pub const fn from_bits(bits: u8) -> Option<Self> {
        if bits >= 1 && bits <= 127 {
            Some(DaysOfWeek(bits))
        } else {
            None
        }
    }

    pub const fn bits(self) -> u8 {
        self.0
    }

    /// The mask of one day, 0 = Sunday ... 6 = Saturday (the numbering of FirstDayOfWeek).
    pub const fn day(index: u8) -> Self {
        DaysOfWeek(1 << (index % 7))
    }

    pub const fn contains(self, index: u8) -> bool {
        index < 7 && self.0 & (1 << index) != 0
    }

    /// The days in the mask as 0 = Sunday ... 6 = Saturday, in that order.
    pub fn days(self) -> impl Iterator<Item = u8> {
        (0..7).filter(move |&i| self.contains(i))
    }

    pub const fn union(self, other: DaysOfWeek) -> Self {
        DaysOfWeek(self.0 | other.0)
    }
}

/// The tags of the Recurrence element in one namespace.
#[derive(Debug, Clone, Copy)]
pub struct RecurrenceTags {
    pub recurrence: Tag,
    pub recurrence_type: Tag,
    pub until: Tag,
    pub occurrences: Tag,
    pub interval: Tag,
    pub day_of_week: Tag,
    pub day_of_month: Tag,
    pub week_of_month: Tag,
    pub month_of_year: Tag,
    pub calendar_type: Tag,
    pub is_leap_month: Tag,
    pub first_day_of_week: Tag,
}

impl RecurrenceTags {
    /// MS-ASCAL: calendar:Recurrence.
    pub const CALENDAR: RecurrenceTags = RecurrenceTags {
        recurrence: calendar::RECURRENCE,
        recurrence_type: calendar::TYPE,
        until: calendar::UNTIL,
        occurrences: calendar::OCCURRENCES,
        interval: calendar::INTERVAL,
        day_of_week: calendar::DAY_OF_WEEK,
        day_of_month: calendar::DAY_OF_MONTH,
        week_of_month: calendar::WEEK_OF_MONTH,
        month_of_year: calendar::MONTH_OF_YEAR,
        calendar_type: calendar::CALENDAR_TYPE,
        is_leap_month: calendar::IS_LEAP_MONTH,
        first_day_of_week: calendar::FIRST_DAY_OF_WEEK,
    };

    /// MS-ASEMAIL 2.2.2.60: email:Recurrence of a MeetingRequest, with the 14.0+ children
    /// in Email2.
    pub const EMAIL: RecurrenceTags = RecurrenceTags {
        recurrence: email::RECURRENCE,
        recurrence_type: email::TYPE,
        until: email::UNTIL,
        occurrences: email::OCCURRENCES,
        interval: email::INTERVAL,
        day_of_week: email::DAY_OF_WEEK,
        day_of_month: email::DAY_OF_MONTH,
        week_of_month: email::WEEK_OF_MONTH,
        month_of_year: email::MONTH_OF_YEAR,
        calendar_type: email2::CALENDAR_TYPE,
        is_leap_month: email2::IS_LEAP_MONTH,
        first_day_of_week: email2::FIRST_DAY_OF_WEEK,
    };

    /// MS-ASTASK 2.2.2.18: tasks:Recurrence (its Start, Regenerate and DeadOccur are the
    /// task's own and not part of this type).
    pub const TASKS: RecurrenceTags = RecurrenceTags {
        recurrence: tasks::RECURRENCE,
        recurrence_type: tasks::TYPE,
        until: tasks::UNTIL,
        occurrences: tasks::OCCURRENCES,
        interval: tasks::INTERVAL,
        day_of_week: tasks::DAY_OF_WEEK,
        day_of_month: tasks::DAY_OF_MONTH,
        week_of_month: tasks::WEEK_OF_MONTH,
        month_of_year: tasks::MONTH_OF_YEAR,
        calendar_type: tasks::CALENDAR_TYPE,
        is_leap_month: tasks::IS_LEAP_MONTH,
        first_day_of_week: tasks::FIRST_DAY_OF_WEEK,
    };
}

/// A recurrence pattern as a client sends it. Which fields a type uses is MS-ASCAL
/// 2.2.2.37; the parser checks each value's range, not the combination (the engine's
/// RRULE conversion says which combinations it can express).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recurrence {
    pub recurrence_type: RecurrenceType,
    /// Units of the type between occurrences (MS-ASCAL Interval: 0..=999; absent or 0 is 1).
    pub interval: Option<u16>,
    /// The end: an MS-ASDTYPE dateTime (calendar items use the compact
    /// "20261125T090000Z" form). The engine reads both forms.
    pub until: Option<String>,
    /// The end as a count (MS-ASCAL Occurrences: up to 999). A pattern should not have both
    /// ends; if it does, the count wins in the RRULE.
    pub occurrences: Option<u16>,
    pub day_of_week: Option<DaysOfWeek>,
    /// 1..=31.
    pub day_of_month: Option<u8>,
    /// 1..=5, 5 = the last week of the month (MS-ASCAL WeekOfMonth).
    pub week_of_month: Option<u8>,
    /// 1..=12.
    pub month_of_year: Option<u8>,
    /// The calendar system (MS-ASCAL CalendarType; 14.0+): 0 default, 1 Gregorian, ...
    pub calendar_type: Option<u8>,
    /// Whether `month_of_year` is a leap month of a lunar calendar (14.0+).
    pub is_leap_month: Option<bool>,
    /// 0 = Sunday ... 6 = Saturday (MS-ASCAL 2.2.2.24; 14.1+).
    pub first_day_of_week: Option<u8>,
}

impl Recurrence {
    /// A pattern of `recurrence_type` with nothing else set.
    pub fn new(recurrence_type: RecurrenceType) -> Self {
        Recurrence {
            recurrence_type,
            interval: None,
            until: None,
            occurrences: None,
            day_of_week: None,
            day_of_month: None,
            week_of_month: None,
            month_of_year: None,
            calendar_type: None,
            is_leap_month: None,
            first_day_of_week: None,
        }
    }

    /// Parses a calendar:Recurrence element.
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        Self::parse_in(e, &RecurrenceTags::CALENDAR)
    }

    /// Parses a Recurrence element of the namespace of `t`.
    pub fn parse_in(e: &Element, t: &RecurrenceTags) -> Result<Self, ParseError> {
        let type_element = e.required(t.recurrence_type)?;
        let code: u8 = parse_value(type_element)?;
        let recurrence_type = RecurrenceType::from_code(code).ok_or_else(|| {
            invalid_value(
                t.recurrence_type,
                &code.to_string(),
                "expected 0, 1, 2, 3, 5 or 6",
            )
        })?;
        let day_of_week = match e.optional_parse::<u8>(t.day_of_week)? {
            None => None,
            Some(bits) => Some(DaysOfWeek::from_bits(bits).ok_or_else(|| {
                invalid_value(t.day_of_week, &bits.to_string(), "expected 1..=127")
            })?),
        };
        Ok(Recurrence {
            recurrence_type,
            interval: in_range(e, t.interval, 0, 999)?,
            until: e.optional_text_max(t.until, 64)?,
            occurrences: in_range(e, t.occurrences, 0, 999)?,
            day_of_week,
            day_of_month: in_range(e, t.day_of_month, 1, 31)?,
            week_of_month: in_range(e, t.week_of_month, 1, 5)?,
            month_of_year: in_range(e, t.month_of_year, 1, 12)?,
            calendar_type: in_range(e, t.calendar_type, 0, 20)?,
            is_leap_month: e.optional_bool(t.is_leap_month)?,
            first_day_of_week: in_range(e, t.first_day_of_week, 0, 6)?,
        })
    }

    /// The calendar:Recurrence element for `version`.
    pub fn to_element(&self, version: ProtocolVersion) -> Element {
        self.to_element_in(&RecurrenceTags::CALENDAR, version)
    }

    /// The Recurrence element in the namespace of `t`. CalendarType and IsLeapMonth are
    /// written from 14.0, FirstDayOfWeek from 14.1 (the version tables of MS-ASCAL
    /// CalendarType, IsLeapMonth and 2.2.2.24 FirstDayOfWeek).
    pub fn to_element_in(&self, t: &RecurrenceTags, version: ProtocolVersion) -> Element {
        let mut e = Element::new(t.recurrence);
        e.push_opt(t.recurrence_type, Some(self.recurrence_type.code()))
            .push_opt(t.interval, self.interval)
            .push_opt(t.until, self.until.as_deref())
            .push_opt(t.occurrences, self.occurrences)
            .push_opt(t.day_of_week, self.day_of_week.map(DaysOfWeek::bits))
            .push_opt(t.day_of_month, self.day_of_month)
            .push_opt(t.week_of_month, self.week_of_month)
            .push_opt(t.month_of_year, self.month_of_year);
        if version >= ProtocolVersion::V14_0 {
            e.push_opt(t.calendar_type, self.calendar_type)
                .push_opt_bool(t.is_leap_month, self.is_leap_month);
        }
        if version >= ProtocolVersion::V14_1 {
            e.push_opt(t.first_day_of_week, self.first_day_of_week);
        }
        e
    }
}

fn in_range<T>(e: &Element, tag: Tag, min: T, max: T) -> Result<Option<T>, ParseError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    match e.optional_parse::<T>(tag)? {
        Some(v) if v < min || v > max => Err(invalid_value(tag, &v.to_string(), "out of range")),
        v => Ok(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Recurrence {
        Recurrence {
            interval: Some(2),
            until: Some("20271231T000000Z".into()),
            day_of_week: Some(DaysOfWeek::MONDAY.union(DaysOfWeek::FRIDAY)),
            week_of_month: Some(5),
            month_of_year: Some(3),
            calendar_type: Some(1),
            is_leap_month: Some(false),
            first_day_of_week: Some(1),
            ..Recurrence::new(RecurrenceType::YearlyNth)
        }
    }

    #[test]
    fn round_trip_in_each_namespace() {
        for t in [
            RecurrenceTags::CALENDAR,
            RecurrenceTags::EMAIL,
            RecurrenceTags::TASKS,
        ] {
            let e = full().to_element_in(&t, ProtocolVersion::V16_1);
            assert_eq!(e.tag, t.recurrence);
            assert_eq!(Recurrence::parse_in(&e, &t).unwrap(), full());
        }
        let e = full().to_element(ProtocolVersion::V16_1);
        assert_eq!(e.child_text(calendar::TYPE).as_deref(), Some("6"));
        assert_eq!(e.child_text(calendar::DAY_OF_WEEK).as_deref(), Some("34"));
        assert_eq!(Recurrence::parse(&e).unwrap(), full());
    }

    #[test]
    fn version_tables() {
        let v14 = full().to_element(ProtocolVersion::V14_0);
        assert!(v14.child(calendar::CALENDAR_TYPE).is_some());
        assert!(v14.child(calendar::FIRST_DAY_OF_WEEK).is_none());
        let v12 = full().to_element(ProtocolVersion::V12_1);
        assert!(v12.child(calendar::CALENDAR_TYPE).is_none());
        assert!(v12.child(calendar::IS_LEAP_MONTH).is_none());
        assert_eq!(
            Recurrence::parse(&v12).unwrap(),
            Recurrence {
                calendar_type: None,
                is_leap_month: None,
                first_day_of_week: None,
                ..full()
            }
        );
    }

    fn with(tag: Tag, value: &str) -> Element {
        Element::new(calendar::RECURRENCE)
            .with_text(calendar::TYPE, "3")
            .with_text(tag, value)
    }

    #[test]
    fn values_out_of_range_are_errors() {
        assert!(matches!(
            Recurrence::parse(&Element::new(calendar::RECURRENCE)),
            Err(ParseError::MissingElement { .. })
        ));
        for ty in ["4", "7", "-1", "x"] {
            let e = Element::new(calendar::RECURRENCE).with_text(calendar::TYPE, ty);
            assert!(Recurrence::parse(&e).is_err(), "Type {ty}");
        }
        for (tag, bad) in [
            (calendar::DAY_OF_WEEK, "0"),
            (calendar::DAY_OF_WEEK, "128"),
            (calendar::DAY_OF_MONTH, "0"),
            (calendar::DAY_OF_MONTH, "32"),
            (calendar::WEEK_OF_MONTH, "6"),
            (calendar::MONTH_OF_YEAR, "13"),
            (calendar::INTERVAL, "1000"),
            (calendar::OCCURRENCES, "70000"),
            (calendar::FIRST_DAY_OF_WEEK, "7"),
            (calendar::IS_LEAP_MONTH, "2"),
        ] {
            assert!(
                matches!(
                    Recurrence::parse(&with(tag, bad)),
                    Err(ParseError::InvalidValue { .. })
                ),
                "{tag:?} {bad}"
            );
        }
        let ok = Recurrence::parse(&with(calendar::DAY_OF_WEEK, "127")).unwrap();
        assert_eq!(ok.day_of_week, Some(DaysOfWeek::ALL));
        assert_eq!(ok.recurrence_type, RecurrenceType::MonthlyNth);
    }

    #[test]
    fn day_masks() {
        assert_eq!(
            DaysOfWeek::WEEKDAYS.days().collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        assert_eq!(DaysOfWeek::day(6), DaysOfWeek::SATURDAY);
        assert!(DaysOfWeek::ALL.contains(0));
        assert!(!DaysOfWeek::MONDAY.contains(0));
        assert_eq!(DaysOfWeek::SUNDAY.union(DaysOfWeek::SATURDAY).bits(), 65);
    }

    proptest::proptest! {
        /// Whatever text a client puts in each child, parsing answers without panicking,
        /// and what parses writes back to the same pattern.
        #[test]
        fn any_children_parse_or_fail_cleanly(texts in proptest::collection::vec("[0-9a-z -]{0,6}", 12)) {
            let t = RecurrenceTags::CALENDAR;
            let tags = [
                t.recurrence_type, t.until, t.occurrences, t.interval, t.day_of_week,
                t.day_of_month, t.week_of_month, t.month_of_year, t.calendar_type,
                t.is_leap_month, t.first_day_of_week, t.recurrence_type,
            ];
            let mut e = Element::new(t.recurrence);
            for (tag, text) in tags.iter().zip(&texts) {
                e.push_text(*tag, text.clone());
            }
            if let Ok(r) = Recurrence::parse(&e) {
                let again = Recurrence::parse(&r.to_element(ProtocolVersion::V16_1)).unwrap();
                proptest::prop_assert_eq!(again, r);
            }
        }
    }
}
