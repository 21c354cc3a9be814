//! Human-readable sizes and ages, shared by the CLI and the dashboard.

use time::OffsetDateTime;

/// `1.5 MB`-style sizes in powers of 1000, as registries and Docker print them.
pub fn bytes(size: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = size as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{size} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `3 days ago`-style age of `then` at `now`.
pub fn age(then: OffsetDateTime, now: OffsetDateTime) -> String {
    let seconds = (now - then).whole_seconds();
    if seconds < 0 {
        return "in the future".into();
    }
    let (count, unit) = match seconds {
        0..60 => return "just now".into(),
        60..3_600 => (seconds / 60, "minute"),
        3_600..86_400 => (seconds / 3_600, "hour"),
        86_400..2_592_000 => (seconds / 86_400, "day"),
        2_592_000..31_536_000 => (seconds / 2_592_000, "month"),
        _ => (seconds / 31_536_000, "year"),
    };
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {unit}{plural} ago")
}

/// `2026-03-04 05:06 UTC`.
pub fn date(when: OffsetDateTime) -> String {
    let utc = when.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_sizes_and_ages() {
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_500_000), "1.5 MB");
        let now = datetime!(2026-06-01 0:00 UTC);
        assert_eq!(age(now - time::Duration::days(3), now), "3 days ago");
        assert_eq!(age(now - time::Duration::hours(1), now), "1 hour ago");
        assert_eq!(age(now - time::Duration::days(400), now), "1 year ago");
        assert_eq!(date(now), "2026-06-01 00:00 UTC");
    }
}
