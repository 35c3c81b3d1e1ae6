//! Small enumerations of the AirSync namespace that several commands share (Sync,
//! GetItemEstimate, ItemOperations, Provision), and the MS-ASDTYPE values that items carry.

pub mod timezone;

pub use timezone::{SystemTime, TimeZone, TimeZoneError};

use crate::macros::code_enum;

code_enum! {
    /// How far back items are synchronized (MS-ASCMD FilterType of Sync and
    /// GetItemEstimate; also the values of MS-ASPROV's MaxCalendarAgeFilter and
    /// MaxEmailAgeFilter).
    FilterType: u8 {
        /// No filter: all items.
        NoFilter = 0,
        OneDay = 1,
        ThreeDays = 2,
        OneWeek = 3,
        TwoWeeks = 4,
        OneMonth = 5,
        ThreeMonths = 6,
        SixMonths = 7,
        /// Tasks only: incomplete tasks.
        IncompleteTasks = 8,
    }
}

impl FilterType {
    /// How many days back the filter reaches; `None` for no date filter (NoFilter,
    /// IncompleteTasks). Months count as 31, 92 and 184 days, so that a filter never cuts
    /// off an item the client expects.
    pub const fn days(self) -> Option<u32> {
        match self {
            FilterType::NoFilter | FilterType::IncompleteTasks => None,
            FilterType::OneDay => Some(1),
            FilterType::ThreeDays => Some(3),
            FilterType::OneWeek => Some(7),
            FilterType::TwoWeeks => Some(14),
            FilterType::OneMonth => Some(31),
            FilterType::ThreeMonths => Some(92),
            FilterType::SixMonths => Some(184),
        }
    }
}

code_enum! {
    /// Whether to send items as MIME (MS-ASCMD MIMESupport).
    MimeSupport: u8 {
        /// Never send MIME data.
        Never = 0,
        /// Send MIME data for S/MIME messages only.
        SmimeOnly = 1,
        /// Send MIME data for all messages.
        Always = 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display() {
        assert_eq!("3".parse(), Ok(FilterType::OneWeek));
        assert_eq!(FilterType::IncompleteTasks.to_string(), "8");
        assert!("9".parse::<FilterType>().is_err());
        assert_eq!(FilterType::OneMonth.days(), Some(31));
        assert_eq!(FilterType::IncompleteTasks.days(), None);
        assert_eq!("2".parse(), Ok(MimeSupport::Always));
        assert!("x".parse::<MimeSupport>().is_err());
    }
}
