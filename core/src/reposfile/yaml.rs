//! The structure of the YAML format of v0.7 and later: lines, their
//! indentation, repositories and their nested or one-line settings.

use super::scalar::{Value, key_and_value};
use super::settings::apply;
use super::{
    Listed, Reposfile, ReposfileEntry, ReposfileError, ReposfileFormat, error, parse_repository,
    shown, trim_blanks,
};

const REPOSITORY_SHAPE: &str =
    "expected \"REPOSITORY:\" (like \"consul:\" or \"team/app: {keepimages: 3}\")";
const SETTING_SHAPE: &str = "expected \"KEY: VALUE\" (like \"keepimages: 20\")";
pub(super) const KEYS: [&str; 3] = ["tag", "keepimages", "keepsince"];
pub(super) const TOO_DEEP_SHORT: &str =
    "a repository file nests two levels, REPOSITORY and then its tag, keepimages and keepsince";
pub(super) const TOO_DEEP: &str = "a repository file nests two levels, REPOSITORY and then its tag, \
keepimages and keepsince; this line is nested deeper";

/// A line with content: not blank, not only a comment.
struct Line<'a> {
    number: usize,
    /// Leading spaces.
    indent: usize,
    /// The line after its indentation.
    text: &'a str,
}

/// A repository whose settings may still follow on nested lines.
struct Open {
    /// Index into the entries.
    entry: usize,
    /// The line of its one-line `{...}` settings, if given that way.
    flow_line: Option<usize>,
    /// The indentation of its nested settings and the first line with one.
    nested: Option<(usize, usize)>,
    /// Where each of [`KEYS`] was set.
    set: [Option<usize>; 3],
}

fn content_lines<'a>(lines: &[&'a str]) -> Result<Vec<Line<'a>>, ReposfileError> {
    let mut content = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let number = index + 1;
        let text = line.trim_start_matches([' ', '\t']);
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let lead = line.len() - text.len();
        if line.as_bytes().iter().take(lead).any(|&b| b == b'\t') {
            return Err(error(number, "tabs cannot indent YAML; use spaces"));
        }
        content.push(Line {
            number,
            indent: lead,
            text,
        });
    }
    Ok(content)
}

fn is_document_marker(text: &str) -> bool {
    text == "---"
        || text
            .strip_prefix("---")
            .is_some_and(|rest| trim_blanks(rest).starts_with('#') && rest.starts_with([' ', '\t']))
}

pub(super) fn parse_yaml(lines: &[&str]) -> Result<Reposfile, ReposfileError> {
    let content = content_lines(lines)?;
    let mut entries: Vec<ReposfileEntry> = Vec::new();
    let mut listed = Listed::default();
    // The indentation of the repositories and the first line with one.
    let mut top: Option<(usize, usize)> = None;
    let mut open: Option<Open> = None;

    for (index, line) in content.iter().enumerate() {
        let number = line.number;
        if is_document_marker(trim_blanks(line.text)) {
            if index == 0 && line.indent == 0 {
                continue;
            }
            return Err(error(
                number,
                "\"---\" can only start the file: a repository file is one YAML document",
            ));
        }
        let (top_indent, top_line) = *top.get_or_insert((line.indent, number));
        if line.indent < top_indent {
            return Err(error(
                number,
                format!(
                    "expected the repositories indented by {top_indent} spaces like line \
                     {top_line}, found {} spaces",
                    line.indent
                ),
            ));
        }
        if line.indent == top_indent {
            open = Some(repository_line(line, &mut entries, &mut listed)?);
            continue;
        }

        // A setting of the repository above.
        let Some(repo) = open.as_mut() else {
            return Err(error(number, TOO_DEEP));
        };
        let Some(entry) = entries.get_mut(repo.entry) else {
            return Err(error(number, TOO_DEEP));
        };
        if let Some(flow_line) = repo.flow_line {
            return Err(error(
                number,
                format!(
                    "the settings of {} are given on line {flow_line} as {{...}}; \
                     nothing can be nested below them",
                    entry.repository
                ),
            ));
        }
        let (nested_indent, nested_line) = *repo.nested.get_or_insert((line.indent, number));
        if line.indent > nested_indent {
            return Err(error(number, TOO_DEEP));
        }
        if line.indent < nested_indent {
            return Err(error(
                number,
                format!(
                    "expected the settings of {} indented by {nested_indent} spaces like \
                     line {nested_line}, found {} spaces",
                    entry.repository, line.indent
                ),
            ));
        }
        let (key, value) = key_and_value(line.text, SETTING_SHAPE).map_err(|m| error(number, m))?;
        let value = match value {
            Value::Empty => {
                if let Some(next) = content.get(index + 1)
                    && next.indent > line.indent
                {
                    return Err(error(next.number, TOO_DEEP));
                }
                None
            }
            Value::Scalar(text) => Some(text),
            Value::Flow(_) => {
                return Err(error(
                    number,
                    format!("the value of {key} cannot be a {{...}} mapping: {TOO_DEEP_SHORT}"),
                ));
            }
        };
        apply(entry, &mut repo.set, &key, value, number)?;
    }
    Ok(Reposfile {
        format: ReposfileFormat::Yaml,
        entries,
    })
}

/// A line naming a repository: `NAME:`, `NAME: {...}`.
fn repository_line(
    line: &Line<'_>,
    entries: &mut Vec<ReposfileEntry>,
    listed: &mut Listed,
) -> Result<Open, ReposfileError> {
    let number = line.number;
    let (key, value) = key_and_value(line.text, REPOSITORY_SHAPE).map_err(|m| error(number, m))?;
    if let Value::Scalar(text) = &value {
        let message = if KEYS.contains(&key.as_str()) {
            format!(
                "{key} is not nested below a repository; indent it under the repository it is for"
            )
        } else {
            format!(
                "expected the settings of {key} nested below it or as {{keepimages: 3}}, found {}",
                shown(text)
            )
        };
        return Err(error(number, message));
    }
    let repository = parse_repository(number, &key)?;
    listed.add(&repository, number)?;
    let mut entry = ReposfileEntry {
        repository,
        line: number,
        tag: None,
        keep_images: None,
        keep_since: None,
    };
    let mut open = Open {
        entry: entries.len(),
        flow_line: None,
        nested: None,
        set: [None; 3],
    };
    if let Value::Flow(pairs) = value {
        open.flow_line = Some(number);
        for (key, value) in pairs {
            apply(&mut entry, &mut open.set, &key, value, number)?;
        }
    }
    entries.push(entry);
    Ok(open)
}
