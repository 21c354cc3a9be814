//! Progress bars on stderr, drawn only when stderr is a terminal.

use std::io::Write;

use cleanreg_core::{ApplyCounts, ScanProgress};

const WIDTH: usize = 30;

/// One bar redrawn in place with `\r`; silent when not on a terminal.
pub struct Bar {
    enabled: bool,
    drawn: bool,
}

impl Bar {
    pub fn new(enabled: bool) -> Bar {
        Bar {
            enabled,
            drawn: false,
        }
    }

    pub fn scan(&mut self, step: &ScanProgress) {
        // Listing tags is the first half, reading manifests the second.
        let total = step.repositories_total + step.tags_total;
        let done = step.repositories_done + step.manifests_read.min(step.tags_total);
        let label = format!(
            "scan {}/{} repositories, {}/{} tags",
            step.repositories_done,
            step.repositories_total,
            step.manifests_read.min(step.tags_total),
            step.tags_total
        );
        self.draw(done, total, &label);
    }

    pub fn apply(&mut self, counts: &ApplyCounts) {
        let removed = if counts.tags_removed > 0 {
            format!("{} tags removed, ", counts.tags_removed)
        } else {
            String::new()
        };
        let label = format!(
            "delete {}/{}: {} deleted, {removed}{} skipped, {} failed",
            counts.done(),
            counts.total,
            counts.deleted,
            counts.skipped,
            counts.failed
        );
        self.draw(counts.done(), counts.total, &label);
    }

    fn draw(&mut self, done: usize, total: usize, label: &str) {
        if !self.enabled {
            return;
        }
        let filled = (done.min(total) * WIDTH)
            .checked_div(total)
            .unwrap_or(WIDTH);
        let bar = format!("{}{}", "#".repeat(filled), "-".repeat(WIDTH - filled));
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r[{bar}] {label}\x1b[K");
        let _ = err.flush();
        self.drawn = true;
    }

    /// Ends the bar's line so the next output starts on its own.
    pub fn finish(&mut self) {
        if self.drawn {
            let _ = writeln!(std::io::stderr().lock());
            self.drawn = false;
        }
    }
}
