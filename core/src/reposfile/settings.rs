//! A repository's settings (`tag`, `keepimages`, `keepsince`) as the
//! values of its entry.

use super::yaml::KEYS;
use super::{ReposfileEntry, ReposfileError, error, shown, whole_number};
use crate::since::parse_since;

/// Sets one of [`KEYS`] on `entry`.
pub(super) fn apply(
    entry: &mut ReposfileEntry,
    set: &mut [Option<usize>; 3],
    key: &str,
    value: Option<String>,
    line: usize,
) -> Result<(), ReposfileError> {
    let repository = &entry.repository;
    let Some(slot) = KEYS.iter().position(|k| *k == key) else {
        let hint = if key.contains(':') {
            " (with a space after \":\")"
        } else {
            ""
        };
        return Err(error(
            line,
            format!(
                "unknown key {} for {repository}; expected tag, keepimages or keepsince{hint}",
                shown(key)
            ),
        ));
    };
    if let Some(first) = set.get(slot).copied().flatten() {
        let message = if first == line {
            format!("{key} is given twice for {repository}")
        } else {
            format!("{key} for {repository} is already set on line {first}")
        };
        return Err(error(line, message));
    }
    if let Some(place) = set.get_mut(slot) {
        *place = Some(line);
    }
    let expected = match key {
        "tag" => "a tag or a regular expression",
        "keepimages" => "a whole number of images",
        _ => "a date",
    };
    let Some(value) = value else {
        return Err(error(
            line,
            format!("{key} for {repository} has no value; expected {expected}"),
        ));
    };
    match key {
        "tag" => {
            if value.is_empty() {
                return Err(error(
                    line,
                    format!("tag for {repository} is empty; expected {expected}"),
                ));
            }
            entry.tag = Some(value);
        }
        "keepimages" => {
            let count = whole_number(&value).ok_or_else(|| {
                error(
                    line,
                    format!(
                        "keepimages must be a whole number of images, found {}",
                        shown(&value)
                    ),
                )
            })?;
            entry.keep_images = Some(count);
        }
        _ => {
            let since = parse_since(&value).map_err(|e| error(line, format!("keepsince {e}")))?;
            entry.keep_since = Some(since);
        }
    }
    Ok(())
}
