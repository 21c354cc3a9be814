//! The original cleanreg's repository file (`-f/--reposfile`): which
//! repositories to clean, each with its own settings.
//!
//! Two formats exist. The text format of v0.3 to v0.6 has one
//! `REPOSITORY COUNT` per line. The YAML format of v0.7 and later maps each
//! repository to its `tag`, `keepimages` and `keepsince`. A file is read as
//! YAML when any line has a `:` outside a `#` comment (repository names never
//! contain one) or starts with the `---` document marker, and as text
//! otherwise.
//!
//! YAML is read by a small parser of its own that takes exactly the subset
//! such files use: a block mapping of repositories, each either empty, a
//! nested block mapping of settings, or a one-line `{key: value, ...}`
//! mapping; plain, single-quoted and double-quoted scalars; `#` comments;
//! one optional leading `---`. Every scalar is text: `tag: 1.0` is the tag
//! `"1.0"`, and `keepimages: "3"` is 3. Anything else is an error that names
//! the line and what was expected. A YAML library would accept more than
//! this and add to the wasm; the small parser adds nothing and says exactly
//! which line is not understood.
//!
//! Reading is split by layer: `text` reads the text format, `yaml` the
//! structure of the YAML subset over the `scalar` syntax of keys and
//! values, and `settings` turns each setting into an entry's field; `write`
//! goes the other way, from a policy to a file.

mod scalar;
mod settings;
mod text;
mod write;
mod yaml;

#[cfg(test)]
mod tests;

pub use write::write_reposfile;

use std::collections::HashMap;

use time::OffsetDateTime;

use crate::name::RepositoryName;
use crate::since::shorten;

use text::parse_text;
use yaml::parse_yaml;

/// One repository of a repository file with the settings given for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReposfileEntry {
    pub repository: RepositoryName,
    /// The 1-based line where the entry starts (its name).
    pub line: usize,
    /// The YAML `tag:`: a tag, or a regular expression when the command
    /// line says so. Never set by the text format.
    pub tag: Option<String>,
    /// Images to keep: the text format's second column, YAML `keepimages`.
    pub keep_images: Option<usize>,
    /// Keep images created since then: YAML `keepsince`.
    pub keep_since: Option<OffsetDateTime>,
}

/// Which of the two formats a repository file was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReposfileFormat {
    /// `REPOSITORY COUNT` lines (v0.3 to v0.6).
    Text,
    /// A YAML mapping of repositories to settings (v0.7 and later).
    Yaml,
}

/// A parsed repository file: its entries in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reposfile {
    pub format: ReposfileFormat,
    pub entries: Vec<ReposfileEntry>,
}

/// Why a repository file was rejected, at which 1-based line. The message
/// says what was found and what was expected; the caller adds the file name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ReposfileError {
    pub line: usize,
    pub message: String,
}

pub(super) fn error(line: usize, message: impl Into<String>) -> ReposfileError {
    ReposfileError {
        line,
        message: message.into(),
    }
}

/// `text` quoted for a message, cut after 60 characters.
pub(super) fn shown(text: &str) -> String {
    format!("{:?}", shorten(text))
}

/// Reads a repository file in either format.
///
/// A leading byte order mark is skipped and lines may end in `\r\n`. An
/// empty file, or one with only comments and blank lines, is the text
/// format with no entries. A repository listed twice is an error.
pub fn parse_reposfile(text: &str) -> Result<Reposfile, ReposfileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .collect();
    if looks_like_yaml(&lines) {
        parse_yaml(&lines)
    } else {
        parse_text(&lines)
    }
}

/// The part of a line before its first `#`.
pub(super) fn before_hash(line: &str) -> &str {
    line.split('#').next().unwrap_or("")
}

pub(super) fn trim_blanks(text: &str) -> &str {
    text.trim_matches([' ', '\t'])
}

fn looks_like_yaml(lines: &[&str]) -> bool {
    let mut content = lines
        .iter()
        .map(|line| trim_blanks(before_hash(line)))
        .filter(|line| !line.is_empty());
    match content.next() {
        None => false,
        Some("---") => true,
        Some(first) => first.contains(':') || content.any(|line| line.contains(':')),
    }
}

/// A count of images: ASCII digits only, no sign.
pub(super) fn whole_number(text: &str) -> Option<usize> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

pub(super) fn parse_repository(line: usize, text: &str) -> Result<RepositoryName, ReposfileError> {
    text.parse::<RepositoryName>()
        .map_err(|e| error(line, e.to_string()))
}

/// Remembers where each repository was first listed.
#[derive(Default)]
pub(super) struct Listed(HashMap<RepositoryName, usize>);

impl Listed {
    pub(super) fn add(
        &mut self,
        repository: &RepositoryName,
        line: usize,
    ) -> Result<(), ReposfileError> {
        if let Some(first) = self.0.get(repository) {
            return Err(error(
                line,
                format!("{repository} is already listed on line {first}"),
            ));
        }
        self.0.insert(repository.clone(), line);
        Ok(())
    }
}
