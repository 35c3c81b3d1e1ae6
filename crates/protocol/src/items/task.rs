//! The Task class (MS-ASTASK): a task as a client adds or changes it in Sync and as the
//! server sends it. Every property is optional; Categories is `Some(vec![])` when the
//! element was present and empty.
//!
//! StartDate and DueDate are the local time written as if UTC; UtcStartDate and
//! UtcDueDate the instants (MS-ASTASK StartDate, DueDate, 2.2.2.32 UtcStartDate).

use crate::element::ElementExt;
use crate::error::ParseError;
use crate::items::airsyncbase::Body;
use crate::items::email::{parse_code, Importance};
use crate::items::recurrence::{Recurrence, RecurrenceTags};
use crate::version::ProtocolVersion;
use easd_wbxml::tags::{airsync, airsyncbase, tasks};
use easd_wbxml::{Element, Tag};

/// Sensitivity (MS-ASTASK Sensitivity): the same codes as MS-ASCAL Sensitivity.
pub use crate::items::calendar::Sensitivity;

/// A task's recurrence (MS-ASTASK Recurrence): the pattern of MS-ASCAL plus the task's own
/// Start, Regenerate and DeadOccur.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRecurrence {
    pub pattern: Recurrence,
    /// Start: the start of the series, dateTime.
    pub start: Option<String>,
    /// Regenerate: the next occurrence is due `interval` after the last one was
    /// completed, not on the pattern's dates.
    pub regenerate: Option<bool>,
    /// DeadOccur: this is the last occurrence; completing it ends the series.
    pub dead_occur: Option<bool>,
}

impl TaskRecurrence {
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        Ok(TaskRecurrence {
            pattern: Recurrence::parse_in(e, &RecurrenceTags::TASKS)?,
            start: e.optional_text(tasks::START),
            regenerate: e.optional_bool(tasks::REGENERATE)?,
            dead_occur: e.optional_bool(tasks::DEAD_OCCUR)?,
        })
    }

    pub fn to_element(&self, version: ProtocolVersion) -> Element {
        let mut e = self.pattern.to_element_in(&RecurrenceTags::TASKS, version);
        e.push_opt(tasks::START, self.start.as_deref())
            .push_opt_bool(tasks::REGENERATE, self.regenerate)
            .push_opt_bool(tasks::DEAD_OCCUR, self.dead_occur);
        e
    }
}

/// A task (MS-ASTASK).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Task {
    pub subject: Option<String>,
    /// airsyncbase:Body.
    pub body: Option<Body>,
    pub importance: Option<Importance>,
    pub start_date: Option<String>,
    pub utc_start_date: Option<String>,
    pub due_date: Option<String>,
    pub utc_due_date: Option<String>,
    /// Complete.
    pub complete: Option<bool>,
    /// DateCompleted: required when Complete is 1.
    pub date_completed: Option<String>,
    pub sensitivity: Option<Sensitivity>,
    pub reminder_set: Option<bool>,
    pub reminder_time: Option<String>,
    pub categories: Option<Vec<String>>,
    pub recurrence: Option<TaskRecurrence>,
    /// OrdinalDate (dateTime) and SubOrdinalDate: the order of
    /// flagged items as Outlook sorts them.
    pub ordinal_date: Option<String>,
    pub sub_ordinal_date: Option<String>,
}

impl Task {
    /// Reads a task from an Add's or Change's ApplicationData. The 2.5-only tasks:Body,
    /// BodySize, BodyTruncated and CompressedRTF are not read.
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        Ok(Task {
            subject: e.optional_text(tasks::SUBJECT),
            body: e.child(airsyncbase::BODY).map(Body::parse).transpose()?,
            importance: parse_code(
                e,
                tasks::IMPORTANCE,
                Importance::from_code,
                "expected importance 0, 1 or 2",
            )?,
            start_date: e.optional_text(tasks::START_DATE),
            utc_start_date: e.optional_text(tasks::UTC_START_DATE),
            due_date: e.optional_text(tasks::DUE_DATE),
            utc_due_date: e.optional_text(tasks::UTC_DUE_DATE),
            complete: e.optional_bool(tasks::COMPLETE)?,
            date_completed: e.optional_text(tasks::DATE_COMPLETED),
            sensitivity: e.optional_parse(tasks::SENSITIVITY)?,
            reminder_set: e.optional_bool(tasks::REMINDER_SET)?,
            reminder_time: e.optional_text(tasks::REMINDER_TIME),
            categories: e.child(tasks::CATEGORIES).map(|c| {
                c.children_with(tasks::CATEGORY)
                    .map(|c| c.text().unwrap_or_default())
                    .collect()
            }),
            recurrence: e
                .child(tasks::RECURRENCE)
                .map(TaskRecurrence::parse)
                .transpose()?,
            ordinal_date: e.optional_text(tasks::ORDINAL_DATE),
            sub_ordinal_date: e.optional_text(tasks::SUB_ORDINAL_DATE),
        })
    }

    /// The task as Sync ApplicationData for `version` (every element is 12.0+; the
    /// recurrence's CalendarType, IsLeapMonth and FirstDayOfWeek follow
    /// [`Recurrence::to_element_in`]).
    pub fn to_application_data(&self, version: ProtocolVersion) -> Element {
        let mut e = Element::new(airsync::APPLICATION_DATA);
        self.push_properties(version, &mut e);
        e
    }

    pub fn to_element_with_tag(&self, tag: Tag, version: ProtocolVersion) -> Element {
        let mut e = Element::new(tag);
        self.push_properties(version, &mut e);
        e
    }

    pub fn push_properties(&self, version: ProtocolVersion, e: &mut Element) {
        if let Some(b) = &self.body {
            e.push(b.to_element());
        }
        e.push_opt(tasks::SUBJECT, self.subject.as_deref())
            .push_opt(tasks::IMPORTANCE, self.importance.map(Importance::code))
            .push_opt(tasks::UTC_START_DATE, self.utc_start_date.as_deref())
            .push_opt(tasks::START_DATE, self.start_date.as_deref())
            .push_opt(tasks::UTC_DUE_DATE, self.utc_due_date.as_deref())
            .push_opt(tasks::DUE_DATE, self.due_date.as_deref());
        if let Some(c) = &self.categories {
            let mut list = Element::new(tasks::CATEGORIES);
            for v in c {
                list.push_text(tasks::CATEGORY, v.clone());
            }
            e.push(list);
        }
        if let Some(r) = &self.recurrence {
            e.push(r.to_element(version));
        }
        e.push_opt_bool(tasks::COMPLETE, self.complete)
            .push_opt(tasks::DATE_COMPLETED, self.date_completed.as_deref())
            .push_opt(tasks::SENSITIVITY, self.sensitivity)
            .push_opt(tasks::REMINDER_TIME, self.reminder_time.as_deref())
            .push_opt_bool(tasks::REMINDER_SET, self.reminder_set)
            .push_opt(tasks::ORDINAL_DATE, self.ordinal_date.as_deref())
            .push_opt(tasks::SUB_ORDINAL_DATE, self.sub_ordinal_date.as_deref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::items::airsyncbase::BodyType;
    use crate::items::recurrence::{DaysOfWeek, RecurrenceType};

    fn full() -> Task {
        let mut pattern = Recurrence::new(RecurrenceType::Weekly);
        pattern.interval = Some(2);
        pattern.day_of_week = Some(DaysOfWeek::MONDAY.union(DaysOfWeek::THURSDAY));
        pattern.occurrences = Some(10);
        pattern.first_day_of_week = Some(1);
        pattern.calendar_type = Some(1);
        pattern.is_leap_month = Some(false);
        Task {
            subject: Some("File the report".into()),
            body: Some(Body::new(BodyType::Plain, "Quarterly, to finance.")),
            importance: Some(Importance::High),
            start_date: Some("2026-11-30T00:00:00.000Z".into()),
            utc_start_date: Some("2026-11-29T23:00:00.000Z".into()),
            due_date: Some("2026-12-03T00:00:00.000Z".into()),
            utc_due_date: Some("2026-12-02T23:00:00.000Z".into()),
            complete: Some(false),
            date_completed: None,
            sensitivity: Some(Sensitivity::Private),
            reminder_set: Some(true),
            reminder_time: Some("2026-12-02T08:00:00.000Z".into()),
            categories: Some(vec!["Work".into()]),
            recurrence: Some(TaskRecurrence {
                pattern,
                start: Some("2026-11-30T00:00:00.000Z".into()),
                regenerate: Some(false),
                dead_occur: Some(false),
            }),
            ordinal_date: Some("2026-11-25T10:00:00.000Z".into()),
            sub_ordinal_date: Some("5555555".into()),
        }
    }

    #[test]
    fn round_trip_per_version() {
        let t = full();
        for v in [
            ProtocolVersion::V14_0,
            ProtocolVersion::V14_1,
            ProtocolVersion::V16_1,
        ] {
            let mut want = t.clone();
            if v < ProtocolVersion::V14_1 {
                // FirstDayOfWeek is 14.1+ (MS-ASTASK FirstDayOfWeek).
                want.recurrence.as_mut().unwrap().pattern.first_day_of_week = None;
            }
            assert_eq!(
                Task::parse(&t.to_application_data(v)).unwrap(),
                want,
                "{v:?}"
            );
        }
    }

    #[test]
    fn bad_codes_are_errors() {
        for (tag, value) in [
            (tasks::IMPORTANCE, "5"),
            (tasks::SENSITIVITY, "x"),
            (tasks::COMPLETE, "2"),
        ] {
            let e = Element::new(airsync::APPLICATION_DATA).with_text(tag, value);
            assert!(Task::parse(&e).is_err(), "{tag:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_children_parse_or_fail_cleanly(
            picks in proptest::collection::vec((5u8..0x27, "[0-9a-zA-Z :.-]{0,8}"), 0..20)
        ) {
            let mut e = Element::new(airsync::APPLICATION_DATA);
            let mut recurrence = Element::new(tasks::RECURRENCE);
            for (token, text) in picks {
                let tag = Tag::new(tasks::SUBJECT.page, token);
                if token % 2 == 0 {
                    recurrence.push_text(tag, text);
                } else {
                    e.push_text(tag, text);
                }
            }
            e.push(recurrence);
            let _ = Task::parse(&e);
        }
    }
}
