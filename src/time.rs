//! [`Timestamp`]: the one type of a point in time in rootguard, from the
//! command line's `--at` and `--now` to the record's events and the rules'
//! deadlines. A whole number of seconds since 1970-01-01T00:00:00Z; written
//! and read as RFC 3339 (`2026-11-25T10:00:00Z`), so the record's JSON stays
//! readable. DNSSEC signature times are 32-bit (RFC 4034 §3.1.5): a time
//! outside their range is refused, never truncated.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// A point in time, to the second, in UTC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Why a text or a number is not a usable time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Not RFC 3339.
    #[error("{input:?} is not an RFC 3339 time (e.g. 2026-11-25T10:00:00Z): {reason}")]
    Syntax {
        /// The input (shortened).
        input: String,
        /// What the parser said.
        reason: String,
    },
    /// Outside the range of DNSSEC signature times.
    #[error(
        "{0} is outside the range of DNSSEC signature times (1970-01-01 to 2106-02-07, RFC 4034 §3.1.5)"
    )]
    SignatureRange(Timestamp),
}

impl Timestamp {
    /// Now, by the system clock.
    pub fn now() -> Timestamp {
        Timestamp(jiff::Timestamp::now().as_second())
    }

    /// The time `secs` seconds after the Unix epoch, clamped to the range
    /// RFC 3339 can write (years 1 to 9999).
    pub fn from_second(secs: i64) -> Timestamp {
        Timestamp(secs.clamp(
            jiff::Timestamp::MIN.as_second(),
            jiff::Timestamp::MAX.as_second(),
        ))
    }

    /// Seconds since the Unix epoch.
    pub fn as_second(self) -> i64 {
        self.0
    }

    /// Parses RFC 3339.
    pub fn parse(input: &str) -> Result<Timestamp, TimeError> {
        input
            .parse::<jiff::Timestamp>()
            .map(|t| Timestamp(t.as_second()))
            .map_err(|e| TimeError::Syntax {
                input: input.chars().take(64).collect(),
                reason: e.to_string(),
            })
    }

    /// This time as a DNSSEC signature time (RFC 4034 §3.1.5).
    pub fn signature_time(self) -> Result<u32, TimeError> {
        u32::try_from(self.0).map_err(|_| TimeError::SignatureRange(self))
    }

    /// This time as a DNSSEC signature time, clamped to its range (for
    /// the system clock, which is always within it until 2106).
    pub fn signature_time_clamped(self) -> u32 {
        u32::try_from(self.0.max(0)).unwrap_or(u32::MAX)
    }

    /// `secs` seconds later (earlier when negative), saturating.
    pub fn plus_secs(self, secs: i64) -> Timestamp {
        Timestamp::from_second(self.0.saturating_add(secs))
    }

    /// `days` days later (earlier when negative), saturating.
    pub fn plus_days(self, days: i64) -> Timestamp {
        self.plus_secs(days.saturating_mul(DAY))
    }

    /// Seconds from `earlier` to `self`.
    pub fn secs_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match jiff::Timestamp::from_second(self.0) {
            Ok(t) => write!(f, "{t}"),
            Err(_) => write!(f, "{}s", self.0),
        }
    }
}

impl FromStr for Timestamp {
    type Err = TimeError;
    fn from_str(s: &str) -> Result<Timestamp, TimeError> {
        Timestamp::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    /// RFC 3339 text, or (as records written before this type had it)
    /// a number of seconds.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Text(String),
            Seconds(i64),
        }
        match Form::deserialize(d)? {
            Form::Text(s) => Timestamp::parse(&s).map_err(serde::de::Error::custom),
            Form::Seconds(n) => Ok(Timestamp::from_second(n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip_and_json() {
        let t = Timestamp::parse("2026-11-25T10:00:00Z").unwrap();
        assert_eq!(t.as_second(), 1_795_600_800);
        assert_eq!(t.to_string(), "2026-11-25T10:00:00Z");
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2026-11-25T10:00:00Z\""
        );
        let back: Timestamp = serde_json::from_str("\"2026-11-25T10:00:00Z\"").unwrap();
        assert_eq!(back, t);
        let old: Timestamp = serde_json::from_str("1795600800").unwrap();
        assert_eq!(old, t);
        assert!(Timestamp::parse("yesterday").is_err());
        assert!(serde_json::from_str::<Timestamp>("\"x\"").is_err());
    }

    #[test]
    fn signature_times_are_refused_not_truncated() {
        assert_eq!(
            Timestamp::parse("2018-01-31T00:00:00Z")
                .unwrap()
                .signature_time(),
            Ok(1_517_356_800)
        );
        for t in ["2107-01-01T00:00:00Z", "1969-12-31T23:59:59Z"] {
            assert!(
                Timestamp::parse(t).unwrap().signature_time().is_err(),
                "{t}"
            );
        }
    }

    #[test]
    fn arithmetic_saturates() {
        let t = Timestamp::from_second(0);
        assert_eq!(t.plus_days(1).as_second(), DAY);
        assert_eq!(t.plus_days(2).secs_since(t.plus_days(1)), DAY);
        let far = Timestamp::from_second(i64::MAX).plus_days(i64::MAX);
        assert!(far.to_string().starts_with("9999"), "{far}");
    }
}
