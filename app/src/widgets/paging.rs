//! Page arithmetic for the paged tables, as pure functions: how many pages,
//! which rows one shows, and the "Rows 101–200 of 950" line.

use std::ops::Range;

/// Rows per page of the plan, outcome and restore tables.
pub const PAGE_ROWS: usize = 100;

/// The number of pages for `len` rows of `size` (at least one).
pub fn page_count(len: usize, size: usize) -> usize {
    len.div_ceil(size.max(1)).max(1)
}

/// The row range of page `page` (from 0, clamped to the last page).
pub fn page_range(len: usize, size: usize, page: usize) -> Range<usize> {
    let size = size.max(1);
    let start = page.min(page_count(len, size) - 1) * size;
    start..len.min(start.saturating_add(size))
}

/// `Rows 101–200 of 950`, or `No rows`.
pub fn rows_label(len: usize, size: usize, page: usize) -> String {
    let range = page_range(len, size, page);
    if len == 0 {
        "No rows".to_owned()
    } else {
        format!("Rows {}–{} of {len}", range.start + 1, range.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_every_row_once() {
        assert_eq!(page_count(0, PAGE_ROWS), 1);
        assert_eq!(page_count(100, PAGE_ROWS), 1);
        assert_eq!(page_count(101, PAGE_ROWS), 2);
        assert_eq!(page_count(250, PAGE_ROWS), 3);
        assert_eq!(page_range(250, PAGE_ROWS, 0), 0..100);
        assert_eq!(page_range(250, PAGE_ROWS, 2), 200..250);
        assert_eq!(
            page_range(250, PAGE_ROWS, 9),
            200..250,
            "clamped to the last page"
        );
        assert_eq!(page_range(0, PAGE_ROWS, 0), 0..0);
        assert_eq!(rows_label(250, PAGE_ROWS, 1), "Rows 101–200 of 250");
        assert_eq!(rows_label(0, PAGE_ROWS, 0), "No rows");
    }

    #[test]
    fn one_page_holds_everything_when_the_size_is_unbounded() {
        assert_eq!(page_count(5_000, usize::MAX), 1);
        assert_eq!(page_range(5_000, usize::MAX, 3), 0..5_000);
        assert_eq!(page_range(5, usize::MAX, 0), 0..5);
        assert_eq!(page_range(7, 0, 2), 2..3, "a size of 0 counts as 1");
    }
}
