//! RFC 3339 timestamps, parsed with any offset and rendered as protojson renders a
//! `google.protobuf.Timestamp`: UTC, `Z`, and 0, 3, 6 or 9 fractional digits.

use std::fmt::Write as _;

/// A point in time: seconds since the Unix epoch (UTC) and nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    /// Whole seconds since 1970-01-01T00:00:00Z (negative before).
    pub seconds: i64,
    /// Nanoseconds, `0..1_000_000_000`.
    pub nanos: u32,
}

/// `0001-01-01T00:00:00Z`, protobuf's smallest timestamp and what Zitadel renders for a
/// projection that has processed nothing.
pub const MIN_SECONDS: i64 = -62_135_596_800;
/// `9999-12-31T23:59:59Z`, protobuf's largest whole second.
pub const MAX_SECONDS: i64 = 253_402_300_799;

impl Default for Timestamp {
    fn default() -> Self {
        Timestamp { seconds: MIN_SECONDS, nanos: 0 }
    }
}

/// Why a timestamp was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimestampProblem {
    /// Not of the form `YYYY-MM-DDTHH:MM:SS[.fff]Z|±HH:MM`.
    Format,
    /// A month, day, hour, minute, second or offset out of its range (leap seconds included).
    Range,
    /// Outside `0001-01-01` to `9999-12-31` once in UTC (protobuf's range).
    OutOfRange,
}

impl TimestampProblem {
    /// A short explanation for error messages.
    pub fn describe(self) -> &'static str {
        match self {
            TimestampProblem::Format => "expected YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)",
            TimestampProblem::Range => "a date or time field is out of range",
            TimestampProblem::OutOfRange => {
                "outside protobuf's range 0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999999Z"
            }
        }
    }
}

impl std::fmt::Display for TimestampProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

impl std::error::Error for TimestampProblem {}

impl Timestamp {
    /// Parses RFC 3339 (`2025-01-16T02:26:13.541Z`, `2025-01-16T03:26:13+01:00`; `t`/`z`
    /// accepted as RFC 3339 allows; 1 to 9 fractional digits).
    pub fn parse(text: &str) -> Result<Timestamp, TimestampProblem> {
        let b = text.as_bytes();
        let num = |from: usize, len: usize| -> Result<i64, TimestampProblem> {
            let digits = b.get(from..from + len).ok_or(TimestampProblem::Format)?;
            digits.iter().try_fold(0i64, |acc, &d| {
                if d.is_ascii_digit() {
                    Ok(acc * 10 + i64::from(d - b'0'))
                } else {
                    Err(TimestampProblem::Format)
                }
            })
        };
        let at = |i: usize, allowed: &[u8]| b.get(i).is_some_and(|c| allowed.contains(c));
        if !(at(4, b"-") && at(7, b"-") && at(10, b"Tt") && at(13, b":") && at(16, b":")) {
            return Err(TimestampProblem::Format);
        }
        let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
        let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
        let mut i = 19;
        let mut nanos: i64 = 0;
        if at(i, b".") {
            let start = i + 1;
            let mut end = start;
            while b.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
            let len = end - start;
            if len == 0 || len > 9 {
                return Err(TimestampProblem::Format);
            }
            nanos = num(start, len)? * 10i64.pow(9 - len as u32);
            i = end;
        }
        let offset_minutes = match b.get(i) {
            Some(b'Z' | b'z') if i + 1 == b.len() => 0,
            Some(&sign @ (b'+' | b'-')) if i + 6 == b.len() && at(i + 3, b":") => {
                let (h, m) = (num(i + 1, 2)?, num(i + 4, 2)?);
                if h > 23 || m > 59 {
                    return Err(TimestampProblem::Range);
                }
                let total = h * 60 + m;
                if sign == b'-' {
                    -total
                } else {
                    total
                }
            }
            _ => return Err(TimestampProblem::Format),
        };
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 59
        {
            return Err(TimestampProblem::Range);
        }
        let seconds =
            days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
        if !(MIN_SECONDS..=MAX_SECONDS).contains(&seconds) {
            return Err(TimestampProblem::OutOfRange);
        }
        Ok(Timestamp { seconds, nanos: nanos as u32 })
    }

    /// Renders as protojson does: UTC, `Z`, and the fewest of 0, 3, 6 or 9 fractional digits
    /// that show the value exactly.
    pub fn render(&self) -> String {
        let days = self.seconds.div_euclid(86_400);
        let secs_of_day = self.seconds.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let mut out = String::with_capacity(30);
        let _ = write!(
            out,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            secs_of_day / 3600,
            secs_of_day / 60 % 60,
            secs_of_day % 60
        );
        let n = self.nanos;
        if n != 0 {
            if n % 1_000_000 == 0 {
                let _ = write!(out, ".{:03}", n / 1_000_000);
            } else if n % 1_000 == 0 {
                let _ = write!(out, ".{:06}", n / 1_000);
            } else {
                let _ = write!(out, ".{n:09}");
            }
        }
        out.push('Z');
        out
    }

    /// Whether the value lies in protobuf's range (checked for timestamps read from bytes).
    pub fn is_valid(&self) -> bool {
        (MIN_SECONDS..=MAX_SECONDS).contains(&self.seconds) && self.nanos < 1_000_000_000
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(text: &str) -> String {
        Timestamp::parse(text).map(|t| t.render()).unwrap_or_else(|e| format!("{e:?}"))
    }

    #[test]
    fn renders_like_protojson() {
        assert_eq!(round("2025-01-16T02:26:13.541Z"), "2025-01-16T02:26:13.541Z");
        assert_eq!(round("2025-01-01T10:00:00.123456Z"), "2025-01-01T10:00:00.123456Z");
        assert_eq!(round("2025-01-01T10:00:00.1234567Z"), "2025-01-01T10:00:00.123456700Z");
        assert_eq!(round("2025-01-01T10:00:00.000Z"), "2025-01-01T10:00:00Z");
        assert_eq!(round("2025-01-01T10:00:00.5Z"), "2025-01-01T10:00:00.500Z");
        assert_eq!(Timestamp::default().render(), "0001-01-01T00:00:00Z");
    }

    #[test]
    fn offsets_become_utc() {
        assert_eq!(round("2025-01-01T00:30:00+01:00"), "2024-12-31T23:30:00Z");
        assert_eq!(round("2024-02-28T23:00:00-02:00"), "2024-02-29T01:00:00Z");
        assert_eq!(round("1970-01-01t00:00:00z"), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn refuses_what_is_not_rfc3339() {
        for bad in [
            "16.01.2025",
            "2025-01-16",
            "2025-01-16T02:26:13",
            "2025-01-16 02:26:13Z",
            "2025-01-16T02:26:13.Z",
            "2025-01-16T02:26:13.1234567890Z",
            "2025-01-16T02:26:13+0100",
        ] {
            assert_eq!(Timestamp::parse(bad), Err(TimestampProblem::Format), "{bad}");
        }
        for bad in ["2025-02-29T00:00:00Z", "2025-13-01T00:00:00Z", "2025-01-01T24:00:00Z", "2016-12-31T23:59:60Z"] {
            assert_eq!(Timestamp::parse(bad), Err(TimestampProblem::Range), "{bad}");
        }
        assert_eq!(Timestamp::parse("0001-01-01T00:00:00+00:01"), Err(TimestampProblem::OutOfRange));
        assert_eq!(round("0001-01-01T00:00:00Z"), "0001-01-01T00:00:00Z");
        assert_eq!(round("9999-12-31T23:59:59.999999999Z"), "9999-12-31T23:59:59.999999999Z");
    }
}
