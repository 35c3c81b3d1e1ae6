//! The EAS TIMEZONE structure (MS-ASDTYPE 2.7.6 TimeZone): 172 little-endian bytes, sent
//! base64-encoded in calendar:Timezone (MS-ASCAL), in meeting requests (MS-ASEMAIL) and
//! elsewhere. It is the Windows TIME_ZONE_INFORMATION layout:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | Bias (LONG, minutes; UTC = local time + Bias) |
//! | 4 | 64 | StandardName (32 WCHARs, unused ones 0) |
//! | 68 | 16 | StandardDate (SYSTEMTIME, MS-DTYP 2.3.13) |
//! | 84 | 4 | StandardBias (LONG, added to Bias in standard time) |
//! | 88 | 64 | DaylightName |
//! | 152 | 16 | DaylightDate |
//! | 168 | 4 | DaylightBias (LONG, added to Bias in daylight time) |
//!
//! This module only reads and writes the bytes; what the dates mean (the "day-of-week
//! occurrence" form with wYear 0, and IANA zones) is engine/content/timezone.rs.

use crate::http::BASE64;
use base64::Engine as _;

/// The size of the structure (MS-ASDTYPE 2.7.6).
pub const TIMEZONE_LEN: usize = 172;

/// WCHARs in StandardName and DaylightName.
pub const NAME_UNITS: usize = 32;

const SYSTEMTIME_LEN: usize = 16;

/// A SYSTEMTIME (MS-DTYP 2.3.13): eight little-endian WORDs. In a TimeZone, `month` 0 means
/// "no transition"; with `year` 0 the date is a rule ("the `day`-th `day_of_week` of
/// `month`", `day` 5 meaning the last), otherwise an absolute date.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SystemTime {
    pub year: u16,
    pub month: u16,
    /// 0 = Sunday ... 6 = Saturday.
    pub day_of_week: u16,
    pub day: u16,
    pub hour: u16,
    pub minute: u16,
    pub second: u16,
    pub milliseconds: u16,
}

impl SystemTime {
    fn read(b: &[u8; SYSTEMTIME_LEN]) -> Self {
        let w = |i: usize| u16::from_le_bytes([b[2 * i], b[2 * i + 1]]);
        SystemTime {
            year: w(0),
            month: w(1),
            day_of_week: w(2),
            day: w(3),
            hour: w(4),
            minute: w(5),
            second: w(6),
            milliseconds: w(7),
        }
    }

    fn write(&self, out: &mut [u8]) {
        let words = [
            self.year,
            self.month,
            self.day_of_week,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.milliseconds,
        ];
        for (chunk, w) in out.chunks_exact_mut(2).zip(words) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
    }
}

/// A decoded TimeZone structure. Names are kept as text (up to the first NUL); they are
/// descriptions only, but Windows clients put the Windows zone name ("W. Europe Standard
/// Time") in StandardName, which helps to find the IANA zone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TimeZone {
    /// Minutes west of UTC in standard time (Berlin: -60, New York: 300).
    pub bias: i32,
    pub standard_name: String,
    /// When daylight time ends (local daylight time); month 0 when the zone has no DST.
    pub standard_date: SystemTime,
    pub standard_bias: i32,
    pub daylight_name: String,
    /// When daylight time starts (local standard time).
    pub daylight_date: SystemTime,
    /// Usually -60.
    pub daylight_bias: i32,
}

/// Why bytes or text are not a TimeZone, or a TimeZone can't be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeZoneError {
    #[error("the TimeZone value is not base64")]
    Base64,
    #[error("a TimeZone structure is {TIMEZONE_LEN} bytes, found {0}")]
    Length(usize),
    #[error("a TimeZone name is at most {NAME_UNITS} UTF-16 units, found {0}")]
    NameTooLong(usize),
}

impl TimeZone {
    /// Reads the structure from exactly [`TIMEZONE_LEN`] bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TimeZoneError> {
        let b: &[u8; TIMEZONE_LEN] = bytes
            .try_into()
            .map_err(|_| TimeZoneError::Length(bytes.len()))?;
        Ok(TimeZone {
            bias: read_long(b, 0),
            standard_name: read_name(b, 4),
            standard_date: SystemTime::read(sub(b, 68)),
            standard_bias: read_long(b, 84),
            daylight_name: read_name(b, 88),
            daylight_date: SystemTime::read(sub(b, 152)),
            daylight_bias: read_long(b, 168),
        })
    }

    /// Writes the structure; names longer than 32 UTF-16 units are an error.
    pub fn to_bytes(&self) -> Result<[u8; TIMEZONE_LEN], TimeZoneError> {
        let mut b = [0u8; TIMEZONE_LEN];
        b[0..4].copy_from_slice(&self.bias.to_le_bytes());
        write_name(&mut b[4..68], &self.standard_name)?;
        self.standard_date.write(&mut b[68..84]);
        b[84..88].copy_from_slice(&self.standard_bias.to_le_bytes());
        write_name(&mut b[88..152], &self.daylight_name)?;
        self.daylight_date.write(&mut b[152..168]);
        b[168..172].copy_from_slice(&self.daylight_bias.to_le_bytes());
        Ok(b)
    }

    /// Decodes the base64 text of a Timezone element (padding optional, surrounding
    /// whitespace ignored).
    pub fn from_base64(text: &str) -> Result<Self, TimeZoneError> {
        let text = text.trim();
        // 172 bytes are 232 base64 characters; don't decode an oversized value at all.
        if text.len() > 240 {
            return Err(TimeZoneError::Length(text.len() / 4 * 3));
        }
        let bytes = BASE64.decode(text).map_err(|_| TimeZoneError::Base64)?;
        Self::from_bytes(&bytes)
    }

    /// The base64 text for a Timezone element.
    pub fn to_base64(&self) -> Result<String, TimeZoneError> {
        Ok(BASE64.encode(self.to_bytes()?))
    }

    /// True when the zone has no daylight saving time (StandardDate.wMonth is 0).
    pub fn has_dst(&self) -> bool {
        self.standard_date.month != 0 && self.daylight_date.month != 0
    }
}

fn sub<const N: usize>(b: &[u8; TIMEZONE_LEN], at: usize) -> &[u8; N] {
    b[at..at + N].try_into().expect("slice of a fixed array")
}

fn read_long(b: &[u8; TIMEZONE_LEN], at: usize) -> i32 {
    i32::from_le_bytes(*sub(b, at))
}

fn read_name(b: &[u8; TIMEZONE_LEN], at: usize) -> String {
    let units: Vec<u16> = b[at..at + 2 * NAME_UNITS]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

fn write_name(out: &mut [u8], name: &str) -> Result<(), TimeZoneError> {
    let units: Vec<u16> = name.encode_utf16().collect();
    if units.len() > NAME_UNITS {
        return Err(TimeZoneError::NameTooLong(units.len()));
    }
    for (chunk, u) in out.chunks_exact_mut(2).zip(units) {
        chunk.copy_from_slice(&u.to_le_bytes());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
            standard_bias: 0,
            daylight_name: "W. Europe Daylight Time".into(),
            daylight_date: SystemTime {
                month: 3,
                day: 5,
                hour: 2,
                ..SystemTime::default()
            },
            daylight_bias: -60,
        }
    }

    #[test]
    fn layout_follows_ms_asdtype() {
        let b = berlin().to_bytes().unwrap();
        assert_eq!(&b[0..4], &(-60i32).to_le_bytes());
        assert_eq!(&b[4..6], &[b'W', 0]);
        // The name ends with NULs up to 64 bytes.
        assert!(b[4 + 2 * 23..68].iter().all(|&x| x == 0));
        // StandardDate: wYear 0, wMonth 10, wDayOfWeek 0, wDay 5, wHour 3.
        assert_eq!(&b[68..78], &[0, 0, 10, 0, 0, 0, 5, 0, 3, 0]);
        assert_eq!(&b[84..88], &[0; 4]);
        assert_eq!(&b[88..90], &[b'W', 0]);
        assert_eq!(&b[154..156], &[3, 0]);
        assert_eq!(&b[168..172], &(-60i32).to_le_bytes());
        assert_eq!(TimeZone::from_bytes(&b).unwrap(), berlin());
        assert!(berlin().has_dst());
        assert!(!TimeZone::default().has_dst());
    }

    #[test]
    fn strict_lengths() {
        assert_eq!(
            TimeZone::from_bytes(&[0; 171]),
            Err(TimeZoneError::Length(171))
        );
        assert_eq!(
            TimeZone::from_bytes(&[0; 173]),
            Err(TimeZoneError::Length(173))
        );
        assert_eq!(TimeZone::from_base64(""), Err(TimeZoneError::Length(0)));
        assert_eq!(TimeZone::from_base64("AAAA"), Err(TimeZoneError::Length(3)));
        assert_eq!(
            TimeZone::from_base64("not base64!"),
            Err(TimeZoneError::Base64)
        );
        assert!(matches!(
            TimeZone::from_base64(&"A".repeat(10_000)),
            Err(TimeZoneError::Length(_))
        ));
        let long = TimeZone {
            standard_name: "x".repeat(33),
            ..TimeZone::default()
        };
        assert_eq!(long.to_bytes(), Err(TimeZoneError::NameTooLong(33)));
        let full = TimeZone {
            daylight_name: "y".repeat(32),
            ..TimeZone::default()
        };
        assert_eq!(
            TimeZone::from_bytes(&full.to_bytes().unwrap()).unwrap(),
            full
        );
    }

    #[test]
    fn base64_with_and_without_padding() {
        let text = berlin().to_base64().unwrap();
        assert_eq!(text.len(), 232);
        assert_eq!(TimeZone::from_base64(&text).unwrap(), berlin());
        let unpadded = text.trim_end_matches('=');
        assert_eq!(TimeZone::from_base64(unpadded).unwrap(), berlin());
        assert_eq!(
            TimeZone::from_base64(&format!(" {text}\n")).unwrap(),
            berlin()
        );
    }

    fn system_time() -> impl Strategy<Value = SystemTime> {
        any::<[u16; 8]>().prop_map(|w| SystemTime {
            year: w[0],
            month: w[1],
            day_of_week: w[2],
            day: w[3],
            hour: w[4],
            minute: w[5],
            second: w[6],
            milliseconds: w[7],
        })
    }

    fn name() -> impl Strategy<Value = String> {
        // No NUL (it ends a name), at most 32 UTF-16 units.
        proptest::collection::vec(any::<char>().prop_filter("NUL", |c| *c != '\0'), 0..32)
            .prop_map(|cs| cs.into_iter().collect::<String>())
            .prop_filter("32 units", |s| s.encode_utf16().count() <= NAME_UNITS)
    }

    proptest! {
        #[test]
        fn round_trip(bias in any::<i32>(), sb in any::<i32>(), db in any::<i32>(),
                      sn in name(), dn in name(), sd in system_time(), dd in system_time()) {
            let tz = TimeZone {
                bias, standard_name: sn, standard_date: sd, standard_bias: sb,
                daylight_name: dn, daylight_date: dd, daylight_bias: db,
            };
            let text = tz.to_base64().unwrap();
            prop_assert_eq!(TimeZone::from_base64(&text).unwrap(), tz);
        }

        #[test]
        fn any_bytes_decode_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let decoded = TimeZone::from_bytes(&bytes);
            prop_assert_eq!(decoded.is_ok(), bytes.len() == TIMEZONE_LEN);
            if let Ok(tz) = decoded {
                // Numbers survive exactly; names may be cut at a NUL or repaired.
                let again = TimeZone::from_bytes(&tz.to_bytes().unwrap()).unwrap();
                prop_assert_eq!(again.bias, tz.bias);
                prop_assert_eq!(again.daylight_date, tz.daylight_date);
            }
        }
    }
}
