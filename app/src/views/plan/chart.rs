//! The bar chart of what garbage collection frees per repository, as inline
//! SVG: the largest repositories, the rest summed in one bar, every bar
//! labelled with its name and figure, and the same as text for screen
//! readers.

use cleanreg_core::RepositoryReclaim;
use cleanreg_core::format;
use leptos::prelude::*;

/// Bars drawn for single repositories; the rest share one.
pub const TOP: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    pub label: String,
    pub bytes: u64,
    /// The repository it stands for; `None` for the summed rest.
    pub repository: Option<String>,
}

/// The `top` repositories that free the most (ties by name), then one bar
/// for the others that free anything. Repositories that free nothing are
/// left out.
pub fn bars(figures: &[RepositoryReclaim], top: usize) -> Vec<Bar> {
    let mut freeing: Vec<&RepositoryReclaim> = figures.iter().filter(|f| f.bytes > 0).collect();
    freeing.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then_with(|| a.repository.cmp(&b.repository))
    });
    let mut out: Vec<Bar> = freeing
        .iter()
        .take(top)
        .map(|f| Bar {
            label: f.repository.to_string(),
            bytes: f.bytes,
            repository: Some(f.repository.to_string()),
        })
        .collect();
    let rest = &freeing[freeing.len().min(top)..];
    if !rest.is_empty() {
        out.push(Bar {
            label: if rest.len() == 1 {
                "1 other repository".to_owned()
            } else {
                format!("{} other repositories", rest.len())
            },
            bytes: rest.iter().map(|f| f.bytes).sum(),
            repository: None,
        });
    }
    out
}

/// The chart as one sentence, for its `aria-label` and `<desc>`.
pub fn describe(bars: &[Bar]) -> String {
    if bars.is_empty() {
        return "Garbage collection frees nothing under this plan.".to_owned();
    }
    let parts: Vec<String> = bars
        .iter()
        .map(|bar| format!("{} {}", bar.label, format::bytes(bar.bytes)))
        .collect();
    format!(
        "Space garbage collection frees, per repository: {}.",
        parts.join(", ")
    )
}

/// A label that fits the chart's name column.
pub fn short_label(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_owned()
    } else {
        let keep: String = label
            .chars()
            .rev()
            .take(max.saturating_sub(1))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("…{keep}")
    }
}

/// Bar length in chart units, at least 1 for a non-zero figure.
pub fn bar_width(bytes: u64, largest: u64, full: f64) -> f64 {
    if largest == 0 || bytes == 0 {
        0.0
    } else {
        (bytes as f64 / largest as f64 * full).max(1.0)
    }
}

const WIDTH: f64 = 640.0;
const NAME_WIDTH: f64 = 210.0;
const VALUE_WIDTH: f64 = 80.0;
const ROW: f64 = 24.0;

#[component]
pub fn ReclaimChart(bars: Vec<Bar>) -> impl IntoView {
    let description = describe(&bars);
    let label = description.clone();
    let largest = bars.iter().map(|b| b.bytes).max().unwrap_or(0);
    let height = (bars.len().max(1) as f64) * ROW + 4.0;
    let full = WIDTH - NAME_WIDTH - VALUE_WIDTH;
    let rows = bars
        .into_iter()
        .enumerate()
        .map(|(at, bar)| {
            let y = at as f64 * ROW + 2.0;
            let width = bar_width(bar.bytes, largest, full);
            let value = format::bytes(bar.bytes);
            let class = if bar.repository.is_some() {
                "bar"
            } else {
                "bar rest"
            };
            view! {
                <g class=class>
                    <title>{format!("{}: {value}", bar.label)}</title>
                    <text x=NAME_WIDTH - 8.0 y=y + ROW / 2.0 + 4.0 text-anchor="end" class="name">
                        {short_label(&bar.label, 30)}
                    </text>
                    <rect x=NAME_WIDTH y=y + 3.0 width=width height=ROW - 6.0 rx="2"></rect>
                    <text x=NAME_WIDTH + width + 6.0 y=y + ROW / 2.0 + 4.0 class="value">
                        {value}
                    </text>
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="plan-chart">
            <figcaption>"Freed by garbage collection, per repository"</figcaption>
            <svg
                data-testid="plan-chart"
                role="img"
                aria-label=label
                viewBox=format!("0 0 {WIDTH} {height}")
                width="100%"
                preserveAspectRatio="xMinYMin meet"
            >
                <title>"Freed by garbage collection, per repository"</title>
                <desc>{description}</desc>
                {rows}
            </svg>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(name: &str, bytes: u64) -> RepositoryReclaim {
        RepositoryReclaim {
            repository: name.parse().unwrap(),
            bytes,
            blobs: 1,
        }
    }

    #[test]
    fn the_largest_get_bars_and_the_rest_is_summed() {
        let figures = vec![
            figure("a", 5),
            figure("b", 50),
            figure("c", 0),
            figure("d", 50),
            figure("e", 7),
            figure("f", 1),
        ];
        let bars = bars(&figures, 2);
        let labels: Vec<(&str, u64)> = bars.iter().map(|b| (b.label.as_str(), b.bytes)).collect();
        assert_eq!(labels, [("b", 50), ("d", 50), ("3 other repositories", 13)]);
        assert_eq!(bars[2].repository, None);
        assert_eq!(
            describe(&bars),
            "Space garbage collection frees, per repository: b 50 B, d 50 B, \
             3 other repositories 13 B."
        );
        let one_more = super::bars(&figures[..3], 1);
        assert_eq!(one_more[1].label, "1 other repository");
        assert!(super::bars(&[figure("a", 0)], 5).is_empty());
        assert_eq!(
            describe(&[]),
            "Garbage collection frees nothing under this plan."
        );
    }

    #[test]
    fn labels_and_widths_fit() {
        assert_eq!(short_label("team/app", 30), "team/app");
        assert_eq!(short_label("abcdefghij", 5), "…ghij");
        assert_eq!(bar_width(0, 100, 300.0), 0.0);
        assert_eq!(bar_width(100, 100, 300.0), 300.0);
        assert_eq!(bar_width(1, 1_000_000, 300.0), 1.0);
        assert_eq!(bar_width(5, 0, 300.0), 0.0);
    }
}
