//! Keeps a stream of progress reports from redrawing the page on every one.
//!
//! A scan reports after each of tens of thousands of answers; setting the
//! progress signals that often costs the page more time than the answers
//! themselves. The scan's reports pass through a [`Throttle`]: at most one
//! update per interval ([`PROGRESS_INTERVAL_MS`], 100 ms) reaches the page,
//! and the ones that must show (the first, the last) always do.

/// How often the scan's progress may redraw, in milliseconds.
pub const PROGRESS_INTERVAL_MS: f64 = 100.0;

/// Lets an update through at most once per interval, and always when told
/// it matters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttle {
    interval_ms: f64,
    /// When the last update went through; `None` before the first.
    last_ms: Option<f64>,
}

impl Throttle {
    pub const fn new(interval_ms: f64) -> Throttle {
        Throttle {
            interval_ms,
            last_ms: None,
        }
    }

    /// Whether the update at `now_ms` should show: the first one, one that
    /// `must` show, or one at least an interval after the last shown. A
    /// clock that went back lets the update through.
    pub fn due(&mut self, now_ms: f64, must: bool) -> bool {
        let due = must
            || self
                .last_ms
                .is_none_or(|last| now_ms - last >= self.interval_ms || now_ms < last);
        if due {
            self.last_ms = Some(now_ms);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_update_shows_then_one_per_interval() {
        let mut throttle = Throttle::new(100.0);
        assert!(throttle.due(1_000.0, false));
        assert!(!throttle.due(1_001.0, false));
        assert!(!throttle.due(1_099.0, false));
        assert!(throttle.due(1_100.0, false));
        assert!(!throttle.due(1_150.0, false));
    }

    #[test]
    fn an_update_that_must_show_always_does() {
        let mut throttle = Throttle::new(100.0);
        assert!(throttle.due(1_000.0, false));
        assert!(throttle.due(1_001.0, true));
        // The interval counts from the last update shown.
        assert!(!throttle.due(1_100.0, false));
        assert!(throttle.due(1_101.0, false));
    }

    #[test]
    fn a_clock_that_goes_back_lets_the_update_through() {
        let mut throttle = Throttle::new(100.0);
        assert!(throttle.due(5_000.0, false));
        assert!(throttle.due(10.0, false));
        assert!(!throttle.due(20.0, false));
    }
}
