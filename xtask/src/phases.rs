//! How long each phase of a run took, printed at its end.

use std::time::{Duration, Instant};

/// Phases in the order they ran, with their times.
#[derive(Default)]
pub struct Phases {
    done: Vec<(&'static str, Duration)>,
}

impl Phases {
    /// Runs `phase` and notes how long it took, whatever it returned.
    pub fn time<T>(&mut self, name: &'static str, phase: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let result = phase();
        self.done.push((name, started.elapsed()));
        result
    }

    /// One line a phase (minutes:seconds), then the total.
    pub fn report(&self) -> String {
        let width = self
            .done
            .iter()
            .map(|(name, _)| name.len())
            .max()
            .unwrap_or(0);
        let mut text = String::from("phases:\n");
        for (name, took) in &self.done {
            text.push_str(&format!("  {name:<width$}  {}\n", clock(*took)));
        }
        let total: Duration = self.done.iter().map(|(_, took)| *took).sum();
        text.push_str(&format!("  {:<width$}  {}\n", "total", clock(total)));
        text
    }
}

fn clock(took: Duration) -> String {
    let seconds = took.as_secs();
    format!("{:>3}:{:02}", seconds / 60, seconds % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_lists_each_phase_and_the_total() {
        let mut phases = Phases::default();
        let answer = phases.time("fmt", || 42);
        assert_eq!(answer, 42);
        phases.done.push(("native tests", Duration::from_secs(754)));
        let report = phases.report();
        assert!(report.starts_with("phases:\n  fmt           "), "{report}");
        assert!(report.contains("  native tests   12:34\n"), "{report}");
        assert!(report.ends_with("  total          12:34\n"), "{report}");
    }
}
