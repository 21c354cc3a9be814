//! The date of "keep images created since DATE": the `-s/--since` flag and a
//! repository file's `keepsince`.
//!
//! The original cleanreg's four forms are accepted and read as UTC, a date
//! alone as midnight UTC; RFC 3339 with any offset is accepted as well. The
//! parsed instant is always returned in UTC.

use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, Time, UtcOffset};

/// How much of a rejected input an error repeats, in characters.
const SHOWN_CHARS: usize = 60;

/// A text that is none of the accepted date forms, or an impossible date
/// such as February 30.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{given:?} is not a date; expected YYYY-MM-DD, YYYYMMDD, YYYY-MM-DDThh:mm:ss, YYYYMMDDThhmmss or RFC 3339"
)]
pub struct SinceError {
    given: String,
}

impl SinceError {
    fn new(text: &str) -> SinceError {
        SinceError {
            given: shorten(text),
        }
    }

    /// The rejected text, trimmed, and cut after 60 characters (with `…`).
    pub fn given(&self) -> &str {
        &self.given
    }
}

/// The first [`SHOWN_CHARS`] characters of `text`, with `…` when cut.
pub(crate) fn shorten(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Reads a "created since" date.
///
/// Accepted, after trimming surrounding whitespace:
/// - `YYYYMMDD` and `YYYY-MM-DD`: midnight UTC of that day;
/// - `YYYYMMDDThhmmss` and `YYYY-MM-DDThh:mm:ss`: that time in UTC;
/// - RFC 3339 (`2026-01-02T03:04:05Z`, `2026-01-02T03:04:05.5+02:00`).
///
/// The `T` may be lowercase. Impossible dates and times (`2026-02-30`,
/// `24:00:00`) are rejected. The result is in UTC.
pub fn parse_since(text: &str) -> Result<OffsetDateTime, SinceError> {
    let trimmed = text.trim();
    parse_trimmed(trimmed).ok_or_else(|| SinceError::new(trimmed))
}

fn parse_trimmed(text: &str) -> Option<OffsetDateTime> {
    let b = text.as_bytes();
    let byte = |i: usize| b.get(i).copied();
    let is_t = |i: usize| matches!(byte(i), Some(b'T' | b't'));
    let dashed = byte(4) == Some(b'-') && byte(7) == Some(b'-');
    match b.len() {
        // YYYYMMDD
        8 => Some(date(b, 0, 4, 6)?.midnight().assume_utc()),
        // YYYY-MM-DD
        10 if dashed => Some(date(b, 0, 5, 8)?.midnight().assume_utc()),
        // YYYYMMDDThhmmss
        15 if is_t(8) => Some(
            date(b, 0, 4, 6)?
                .with_time(time(b, 9, 11, 13)?)
                .assume_utc(),
        ),
        // YYYY-MM-DDThh:mm:ss
        19 if dashed && is_t(10) && byte(13) == Some(b':') && byte(16) == Some(b':') => Some(
            date(b, 0, 5, 8)?
                .with_time(time(b, 11, 14, 17)?)
                .assume_utc(),
        ),
        // RFC 3339: the parser below takes any byte between date and time,
        // so the separator is checked here.
        n if n > 19 && dashed && is_t(10) => OffsetDateTime::parse(text, &Rfc3339)
            .ok()?
            .checked_to_offset(UtcOffset::UTC),
        _ => None,
    }
}

/// The number written in `len` ASCII digits at `start`.
fn digits(b: &[u8], start: usize, len: usize) -> Option<u32> {
    let field = b.get(start..start.checked_add(len)?)?;
    field.iter().try_fold(0u32, |value, &d| {
        d.is_ascii_digit().then(|| value * 10 + u32::from(d - b'0'))
    })
}

fn date(b: &[u8], year: usize, month: usize, day: usize) -> Option<Date> {
    let year = i32::try_from(digits(b, year, 4)?).ok()?;
    let month = Month::try_from(u8::try_from(digits(b, month, 2)?).ok()?).ok()?;
    let day = u8::try_from(digits(b, day, 2)?).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

fn time(b: &[u8], hour: usize, minute: usize, second: usize) -> Option<Time> {
    let field = |at: usize| u8::try_from(digits(b, at, 2)?).ok();
    Time::from_hms(field(hour)?, field(minute)?, field(second)?).ok()
}

/// Writes `at` as RFC 3339 in UTC, like `2026-01-02T00:00:00Z`, with
/// fractional seconds only when there are any (trailing zeros dropped).
///
/// [`parse_since`] reads the result back to the same instant for every year
/// from 0 to 9999; a year outside that range is written with its sign.
pub fn format_since(at: OffsetDateTime) -> String {
    let utc = at.checked_to_offset(UtcOffset::UTC).unwrap_or(at);
    let year = utc.year();
    let mut out = if year < 0 {
        format!("-{:04}", year.unsigned_abs())
    } else {
        format!("{year:04}")
    };
    out.push_str(&format!(
        "-{:02}-{:02}T{:02}:{:02}:{:02}",
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second()
    ));
    let nanos = utc.nanosecond();
    if nanos != 0 {
        let fraction = format!("{nanos:09}");
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    let offset = utc.offset();
    if offset.is_utc() {
        out.push('Z');
    } else {
        // Only reached when UTC is out of the representable range.
        let (h, m, _) = offset.as_hms();
        let sign = if offset.is_negative() { '-' } else { '+' };
        out.push_str(&format!(
            "{sign}{:02}:{:02}",
            h.unsigned_abs(),
            m.unsigned_abs()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn ok(text: &str) -> OffsetDateTime {
        parse_since(text).unwrap_or_else(|e| panic!("{text:?} rejected: {e}"))
    }

    #[test]
    fn reads_the_original_forms_as_utc() {
        assert_eq!(ok("20260102"), datetime!(2026-01-02 0:00 UTC));
        assert_eq!(ok("2026-01-02"), datetime!(2026-01-02 0:00 UTC));
        assert_eq!(ok("20261231T235958"), datetime!(2026-12-31 23:59:58 UTC));
        assert_eq!(
            ok("2000-12-24T12:31:59"),
            datetime!(2000-12-24 12:31:59 UTC)
        );
        assert_eq!(
            ok("2000-12-24t12:31:59"),
            datetime!(2000-12-24 12:31:59 UTC)
        );
        assert_eq!(ok("20000101"), datetime!(2000-01-01 0:00 UTC));
    }

    #[test]
    fn reads_rfc3339_with_offsets_and_fractions() {
        assert_eq!(
            ok("2026-01-02T03:04:05Z"),
            datetime!(2026-01-02 3:04:05 UTC)
        );
        assert_eq!(
            ok("2026-01-02t03:04:05z"),
            datetime!(2026-01-02 3:04:05 UTC)
        );
        assert_eq!(
            ok("2026-01-02T03:04:05+02:00"),
            datetime!(2026-01-02 1:04:05 UTC)
        );
        assert_eq!(
            ok("2026-01-01T23:30:00-01:30"),
            datetime!(2026-01-02 1:00 UTC)
        );
        assert_eq!(
            ok("2026-01-02T03:04:05.25Z"),
            datetime!(2026-01-02 3:04:05.25 UTC)
        );
        assert_eq!(
            ok("2026-01-02T03:04:05.123456789+00:00"),
            datetime!(2026-01-02 3:04:05.123456789 UTC)
        );
    }

    #[test]
    fn returns_utc() {
        let at = ok("2026-01-02T03:04:05+02:00");
        assert!(at.offset().is_utc());
        assert_eq!(at.hour(), 1);
    }

    #[test]
    fn trims_surrounding_whitespace() {
        assert_eq!(ok("  2026-01-02\t"), datetime!(2026-01-02 0:00 UTC));
        assert_eq!(ok("\n20260102 \r\n"), datetime!(2026-01-02 0:00 UTC));
    }

    #[test]
    fn rejects_impossible_dates_and_times() {
        for bad in [
            "2026-02-30",
            "20260230",
            "2026-13-01",
            "2026-00-10",
            "2026-01-00",
            "2025-02-29",
            "2026-01-02T24:00:00",
            "20260102T126000",
            "2026-01-02T12:00:60",
            "2026-01-02T03:04:05+24:00",
        ] {
            assert!(parse_since(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(ok("2024-02-29"), datetime!(2024-02-29 0:00 UTC));
    }

    #[test]
    fn rejects_other_shapes() {
        for bad in [
            "",
            "   ",
            "yesterday",
            "2026-1-2",
            "2026/01/02",
            "02.01.2026",
            "202601021",
            "2026-01-02 03:04:05",
            "2026-01-02T03:04",
            "2026-01-02T03:04:05.5",
            "2026-01-02x03:04:05Z",
            "2026-01-02 03:04:05Z",
            "2026-01-02T03:04:05+0200",
            "2026-01-02T03:04:05Z trailing",
            "20260102T0304",
            "2026-01-02T",
            "+2026-01-02",
            "-2026-01-02",
            "２０２６０１０２",
            "1e7",
            "1700000000",
        ] {
            assert!(parse_since(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn the_error_names_the_input_and_the_accepted_forms() {
        let error = parse_since("2026-13-01").unwrap_err();
        assert_eq!(
            error.to_string(),
            "\"2026-13-01\" is not a date; expected YYYY-MM-DD, YYYYMMDD, \
             YYYY-MM-DDThh:mm:ss, YYYYMMDDThhmmss or RFC 3339"
        );
        assert_eq!(error.given(), "2026-13-01");
        assert_eq!(
            parse_since("  soon ").unwrap_err().given(),
            "soon",
            "the trimmed text is shown"
        );
    }

    #[test]
    fn the_error_shortens_long_input() {
        let long = "é".repeat(200);
        let error = parse_since(&long).unwrap_err();
        assert_eq!(error.given().chars().count(), SHOWN_CHARS + 1);
        assert!(error.given().ends_with('…'));
        assert!(error.to_string().len() < 300);
        let exact = "x".repeat(SHOWN_CHARS);
        assert_eq!(parse_since(&exact).unwrap_err().given(), exact);
    }

    #[test]
    fn the_error_escapes_control_characters() {
        let error = parse_since("20\u{7}26").unwrap_err();
        assert!(error.to_string().starts_with("\"20\\u{7}26\""), "{error}");
    }

    #[test]
    fn formats_rfc3339_in_utc() {
        assert_eq!(
            format_since(datetime!(2026-01-02 0:00 UTC)),
            "2026-01-02T00:00:00Z"
        );
        assert_eq!(
            format_since(datetime!(2026-01-02 3:04:05 +02:00)),
            "2026-01-02T01:04:05Z"
        );
        assert_eq!(
            format_since(datetime!(2026-01-02 3:04:05.25 UTC)),
            "2026-01-02T03:04:05.25Z"
        );
        assert_eq!(
            format_since(datetime!(2026-01-02 3:04:05.000000001 UTC)),
            "2026-01-02T03:04:05.000000001Z"
        );
        assert_eq!(
            format_since(datetime!(0005-06-07 8:09:10 UTC)),
            "0005-06-07T08:09:10Z"
        );
    }

    #[test]
    fn parse_reads_back_what_format_writes() {
        for at in [
            datetime!(2026-01-02 0:00 UTC),
            datetime!(1970-01-01 0:00 UTC),
            datetime!(0000-01-01 0:00 UTC),
            datetime!(9999-12-31 23:59:59.999999999 UTC),
            datetime!(2024-02-29 12:34:56.789 +05:30),
            datetime!(2026-07-01 0:00 -11:45),
        ] {
            let text = format_since(at);
            assert_eq!(parse_since(&text), Ok(at), "{text}");
        }
        for text in [
            "20260102",
            "2000-12-24T12:31:59",
            "2026-01-02T03:04:05.5-07:00",
        ] {
            let at = ok(text);
            assert_eq!(ok(&format_since(at)), at, "{text}");
        }
    }

    #[test]
    fn formats_years_outside_rfc3339_without_panicking() {
        let early = datetime!(-0044-03-15 12:00 UTC);
        assert_eq!(format_since(early), "-0044-03-15T12:00:00Z");
        assert!(parse_since(&format_since(early)).is_err());
        let edge = Date::MIN
            .midnight()
            .assume_offset(time::macros::offset!(+01:00));
        assert!(!format_since(edge).is_empty());
    }
}
