//! ActiveSync protocol versions (MS-ASHTTP 2.2.1.1.2.6 MS-ASProtocolVersion, and the
//! Protocol version field of the base64 query, MS-ASHTTP 2.2.1.1.1.1).

use std::fmt;
use std::str::FromStr;

/// A protocol version easd speaks. Ordered oldest first, so `v >= ProtocolVersion::V14_1`
/// reads as "14.1 or later".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProtocolVersion {
    V12_1,
    V14_0,
    V14_1,
    V16_0,
    V16_1,
}

/// The value of the MS-ASProtocolVersions header in an OPTIONS response (MS-ASHTTP 2.2.4.1.2.2).
pub const SUPPORTED_VERSIONS: &str = "12.1,14.0,14.1,16.0,16.1";

/// A version string or byte easd does not speak (2.5, 12.0, or nothing known).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported protocol version {0:?} (supported: {SUPPORTED_VERSIONS})")]
pub struct UnsupportedVersion(pub String);

impl ProtocolVersion {
    /// Every supported version, oldest first.
    pub const ALL: [ProtocolVersion; 5] = [
        ProtocolVersion::V12_1,
        ProtocolVersion::V14_0,
        ProtocolVersion::V14_1,
        ProtocolVersion::V16_0,
        ProtocolVersion::V16_1,
    ];

    /// The newest version.
    pub const LATEST: ProtocolVersion = ProtocolVersion::V16_1;

    /// The version as the MS-ASProtocolVersion header writes it, e.g. "14.1".
    pub const fn as_str(self) -> &'static str {
        match self {
            ProtocolVersion::V12_1 => "12.1",
            ProtocolVersion::V14_0 => "14.0",
            ProtocolVersion::V14_1 => "14.1",
            ProtocolVersion::V16_0 => "16.0",
            ProtocolVersion::V16_1 => "16.1",
        }
    }

    /// The Protocol version byte of the base64 query (MS-ASHTTP 2.2.1.1.1.1): the version
    /// times ten, e.g. 141 for 14.1.
    pub const fn to_byte(self) -> u8 {
        match self {
            ProtocolVersion::V12_1 => 121,
            ProtocolVersion::V14_0 => 140,
            ProtocolVersion::V14_1 => 141,
            ProtocolVersion::V16_0 => 160,
            ProtocolVersion::V16_1 => 161,
        }
    }

    /// The version of a base64 query's Protocol version byte.
    pub fn from_byte(byte: u8) -> Result<Self, UnsupportedVersion> {
        Self::ALL
            .into_iter()
            .find(|v| v.to_byte() == byte)
            .ok_or_else(|| UnsupportedVersion(format!("{}.{}", byte / 10, byte % 10)))
    }
}

impl FromStr for ProtocolVersion {
    type Err = UnsupportedVersion;

    /// Parses "14.1" (surrounding whitespace ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == t)
            .ok_or_else(|| UnsupportedVersion(t.chars().take(16).collect()))
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays_every_version() {
        for v in ProtocolVersion::ALL {
            assert_eq!(v.as_str().parse::<ProtocolVersion>(), Ok(v));
            assert_eq!(ProtocolVersion::from_byte(v.to_byte()), Ok(v));
            assert_eq!(v.to_string(), v.as_str());
        }
        assert_eq!(" 14.1 ".parse(), Ok(ProtocolVersion::V14_1));
    }

    #[test]
    fn supported_versions_lists_all() {
        let listed: Vec<&str> = SUPPORTED_VERSIONS.split(',').collect();
        let all: Vec<&str> = ProtocolVersion::ALL.iter().map(|v| v.as_str()).collect();
        assert_eq!(listed, all);
    }

    #[test]
    fn rejects_old_and_unknown_versions() {
        assert!("2.5".parse::<ProtocolVersion>().is_err());
        assert!("12.0".parse::<ProtocolVersion>().is_err());
        assert!("".parse::<ProtocolVersion>().is_err());
        assert_eq!(
            ProtocolVersion::from_byte(120),
            Err(UnsupportedVersion("12.0".into()))
        );
        assert!(ProtocolVersion::from_byte(0).is_err());
    }

    #[test]
    fn orders_oldest_first() {
        assert!(ProtocolVersion::V12_1 < ProtocolVersion::V14_0);
        assert!(ProtocolVersion::V14_1 < ProtocolVersion::V16_0);
        assert_eq!(
            ProtocolVersion::ALL.iter().max(),
            Some(&ProtocolVersion::LATEST)
        );
    }
}
