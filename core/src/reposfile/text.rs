//! The text format of v0.3 to v0.6: one `REPOSITORY COUNT` per line.

use super::{
    Listed, Reposfile, ReposfileEntry, ReposfileError, ReposfileFormat, before_hash, error,
    parse_repository, shown, whole_number,
};

const TEXT_SHAPE: &str = "expected \"REPOSITORY COUNT\" (like \"team/app 5\")";

pub(super) fn parse_text(lines: &[&str]) -> Result<Reposfile, ReposfileError> {
    let mut entries = Vec::new();
    let mut listed = Listed::default();
    for (index, line) in lines.iter().enumerate() {
        let number = index + 1;
        let words: Vec<&str> = before_hash(line)
            .split([' ', '\t'])
            .filter(|word| !word.is_empty())
            .collect();
        let found = || shown(&words.join(" "));
        let (name, count) = match words.as_slice() {
            [] => continue,
            [name, count] => (*name, *count),
            [_] => {
                return Err(error(
                    number,
                    format!("{TEXT_SHAPE}, found {} without a count", found()),
                ));
            }
            _ => {
                return Err(error(
                    number,
                    format!("{TEXT_SHAPE}, found {} with more than two words", found()),
                ));
            }
        };
        let repository = parse_repository(number, name)?;
        let keep_images = whole_number(count)
            .ok_or_else(|| error(number, format!("{TEXT_SHAPE}, found {}", found())))?;
        listed.add(&repository, number)?;
        entries.push(ReposfileEntry {
            repository,
            line: number,
            tag: None,
            keep_images: Some(keep_images),
            keep_since: None,
        });
    }
    Ok(Reposfile {
        format: ReposfileFormat::Text,
        entries,
    })
}
