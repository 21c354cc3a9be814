//! How long each phase of a run took, printed at its end. Phases may run
//! side by side in lanes (threads), so each is shown with when it began;
//! the total is the wall time of the whole run.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Phases in the order they ended, with their lane, start and length.
pub struct Phases {
    started: Instant,
    done: Mutex<Vec<Done>>,
}

struct Done {
    name: &'static str,
    lane: &'static str,
    began: Duration,
    took: Duration,
}

impl Default for Phases {
    fn default() -> Self {
        Phases {
            started: Instant::now(),
            done: Mutex::new(Vec::new()),
        }
    }
}

impl Phases {
    /// Runs `phase` on the main lane and notes how long it took, whatever
    /// it returned.
    pub fn time<T>(&self, name: &'static str, phase: impl FnOnce() -> T) -> T {
        self.time_in("main", name, phase)
    }

    /// Runs `phase` as part of `lane` and notes when it began and how long
    /// it took.
    pub fn time_in<T>(
        &self,
        lane: &'static str,
        name: &'static str,
        phase: impl FnOnce() -> T,
    ) -> T {
        let began = self.started.elapsed();
        let result = phase();
        let took = self.started.elapsed() - began;
        self.done
            .lock()
            .expect("no phase panics while noting its time")
            .push(Done {
                name,
                lane,
                began,
                took,
            });
        result
    }

    /// One line a phase (its lane, when it began and how long it took, as
    /// minutes:seconds) in the order they began, then the wall time.
    pub fn report(&self) -> String {
        let mut done = self.done.lock().expect("no phase panicked");
        done.sort_by_key(|d| d.began);
        let width = done.iter().map(|d| d.name.len()).max().unwrap_or(0);
        let lane_width = done.iter().map(|d| d.lane.len()).max().unwrap_or(0);
        let mut text = String::from("phases (lanes run side by side; at = when it began):\n");
        for d in done.iter() {
            text.push_str(&format!(
                "  {:<width$}  {:<lane_width$}  at {}  took {}\n",
                d.name,
                d.lane,
                clock(d.began),
                clock(d.took)
            ));
        }
        text.push_str(&format!(
            "  total (wall time): {}\n",
            clock(self.started.elapsed()).trim_start()
        ));
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
    fn the_report_lists_each_phase_with_its_lane_start_and_length() {
        let phases = Phases::default();
        let answer = phases.time("fmt", || 42);
        assert_eq!(answer, 42);
        phases.done.lock().unwrap().push(Done {
            name: "native tests",
            lane: "builds",
            began: Duration::from_secs(61),
            took: Duration::from_secs(754),
        });
        let report = phases.report();
        let lines: Vec<&str> = report.lines().collect();
        assert_eq!(lines.len(), 4, "{report}");
        assert!(lines[1].starts_with("  fmt           main  "), "{report}");
        assert_eq!(
            lines[2], "  native tests  builds  at   1:01  took  12:34",
            "{report}"
        );
        assert!(lines[3].starts_with("  total (wall time): 0:0"), "{report}");
    }
}
