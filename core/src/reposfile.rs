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
//! the line and what was expected.

use std::collections::HashMap;

use time::OffsetDateTime;

use crate::name::RepositoryName;
use crate::policy::{Policy, Rule};
use crate::since::{parse_since, shorten};

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

fn error(line: usize, message: impl Into<String>) -> ReposfileError {
    ReposfileError {
        line,
        message: message.into(),
    }
}

/// `text` quoted for a message, cut after 60 characters.
fn shown(text: &str) -> String {
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
fn before_hash(line: &str) -> &str {
    line.split('#').next().unwrap_or("")
}

fn trim_blanks(text: &str) -> &str {
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
fn whole_number(text: &str) -> Option<usize> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn parse_repository(line: usize, text: &str) -> Result<RepositoryName, ReposfileError> {
    text.parse::<RepositoryName>()
        .map_err(|e| error(line, e.to_string()))
}

/// Remembers where each repository was first listed.
#[derive(Default)]
struct Listed(HashMap<RepositoryName, usize>);

impl Listed {
    fn add(&mut self, repository: &RepositoryName, line: usize) -> Result<(), ReposfileError> {
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

// ---------------------------------------------------------------- text

const TEXT_SHAPE: &str = "expected \"REPOSITORY COUNT\" (like \"team/app 5\")";

fn parse_text(lines: &[&str]) -> Result<Reposfile, ReposfileError> {
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

// ---------------------------------------------------------------- YAML

const REPOSITORY_SHAPE: &str =
    "expected \"REPOSITORY:\" (like \"consul:\" or \"team/app: {keepimages: 3}\")";
const SETTING_SHAPE: &str = "expected \"KEY: VALUE\" (like \"keepimages: 20\")";
const KEYS: [&str; 3] = ["tag", "keepimages", "keepsince"];
const TOO_DEEP_SHORT: &str =
    "a repository file nests two levels, REPOSITORY and then its tag, keepimages and keepsince";
const TOO_DEEP: &str = "a repository file nests two levels, REPOSITORY and then its tag, \
keepimages and keepsince; this line is nested deeper";

/// A line with content: not blank, not only a comment.
struct Line<'a> {
    number: usize,
    /// Leading spaces.
    indent: usize,
    /// The line after its indentation.
    text: &'a str,
}

/// The value after a key's `:`.
enum Value {
    /// Nothing (or only a comment).
    Empty,
    Scalar(String),
    /// A one-line `{key: value, ...}`; a key without a value has `None`.
    Flow(Vec<(String, Option<String>)>),
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

fn parse_yaml(lines: &[&str]) -> Result<Reposfile, ReposfileError> {
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

/// Sets one of [`KEYS`] on `entry`.
fn apply(
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

/// Why `text` cannot start a key or value of a repository file, if it
/// starts with a YAML indicator this parser does not take.
fn unsupported_start(text: &str) -> Option<&'static str> {
    let mut chars = text.chars();
    let first = chars.next()?;
    let spaced = matches!(chars.next(), None | Some(' ' | '\t'));
    Some(match first {
        '&' => "anchors (&) are not supported in a repository file",
        '*' => "aliases (*) are not supported in a repository file",
        '!' => "YAML tags (!) are not supported in a repository file",
        '|' | '>' => "multi-line strings (| and >) are not supported in a repository file",
        '%' => "YAML directives (%) are not supported in a repository file",
        '@' | '`' => "a plain value cannot start with @ or `; put it in quotes",
        '[' | ']' => "lists ([...]) are not supported in a repository file",
        '-' if spaced => "lists (\"- item\") are not supported in a repository file",
        '?' if spaced => "complex keys (\"? key\") are not supported in a repository file",
        '{' | '}' | ',' => "a key cannot start with {, } or ,",
        _ => return None,
    })
}

/// Splits `KEY: VALUE` (the key plain or quoted). `shape` says what the
/// line should look like, for messages.
fn key_and_value(text: &str, shape: &str) -> Result<(String, Value), String> {
    let found = || shown(trim_blanks(text));
    if let Some(reason) = unsupported_start(text) {
        return Err(format!("{reason}; {shape}"));
    }
    let (key, rest) = if text.starts_with(['"', '\'']) {
        let (key, rest) = quoted(text)?;
        (key, rest.trim_start_matches([' ', '\t']))
    } else {
        let (key, rest) = plain(text, false);
        (key.to_owned(), rest)
    };
    let Some(after) = rest.strip_prefix(':') else {
        let hint = if key.contains(':') {
            "; put a space after \":\""
        } else {
            ""
        };
        return Err(format!("{shape}, found {}{hint}", found()));
    };
    if key.is_empty() && !text.starts_with(['"', '\'']) {
        return Err(format!(
            "{shape}, found {} with no key before \":\"",
            found()
        ));
    }
    let value = block_value(after, &key)?;
    Ok((key, value))
}

/// The value after `KEY:` on a block line.
fn block_value(text: &str, key: &str) -> Result<Value, String> {
    let text = text.trim_start_matches([' ', '\t']);
    if text.is_empty() || text.starts_with('#') {
        return Ok(Value::Empty);
    }
    if text.starts_with('{') {
        return flow_mapping(text).map(Value::Flow);
    }
    let (value, rest) = scalar(text, false, key)?;
    let rest = rest.trim_start_matches([' ', '\t']);
    if rest.is_empty() || rest.starts_with('#') {
        return Ok(Value::Scalar(value));
    }
    Err(unexpected_after(key, rest))
}

fn unexpected_after(key: &str, rest: &str) -> String {
    if rest.starts_with(':') {
        format!(
            "the value of {} contains \": \"; put it in quotes",
            shown(key)
        )
    } else {
        format!(
            "unexpected {} after the value of {}",
            shown(trim_blanks(rest)),
            shown(key)
        )
    }
}

/// A value: quoted or plain. Returns it and the text after it.
fn scalar<'a>(text: &'a str, flow: bool, key: &str) -> Result<(String, &'a str), String> {
    if text.starts_with(['"', '\'']) {
        return quoted(text);
    }
    if text.starts_with(['{', '[']) {
        return Err(format!(
            "the value of {} cannot be a mapping or list: {TOO_DEEP_SHORT}",
            shown(key)
        ));
    }
    if let Some(reason) = unsupported_start(text) {
        return Err(format!("{reason} (the value of {})", shown(key)));
    }
    let (value, rest) = plain(text, flow);
    Ok((value.to_owned(), rest))
}

/// A plain scalar at the start of `text`, without trailing blanks, and the
/// text from where it ends: a `:` followed by a blank (or the end), a `#`
/// after a blank, the end, and in a flow mapping also `,`, `{`, `}`, `[`, `]`.
fn plain(text: &str, flow: bool) -> (&str, &str) {
    let mut end = text.len();
    let mut after_blank = false;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        let stops = match c {
            '#' => after_blank,
            ':' => match next {
                None | Some(' ' | '\t') => true,
                Some(',' | '}' | ']') => flow,
                _ => false,
            },
            ',' | '{' | '}' | '[' | ']' => flow,
            _ => false,
        };
        if stops {
            end = at;
            break;
        }
        after_blank = matches!(c, ' ' | '\t');
    }
    let (value, rest) = text.split_at_checked(end).unwrap_or((text, ""));
    (value.trim_end_matches([' ', '\t']), rest)
}

/// A single- or double-quoted scalar at the start of `text`, which must
/// close on the same line, and the text after its closing quote.
fn quoted(text: &str) -> Result<(String, &str), String> {
    let mut chars = text.char_indices();
    let Some((_, quote)) = chars.next() else {
        return Err("expected a quoted value".to_owned());
    };
    let mut value = String::new();
    let unclosed = || {
        format!(
            "the quoted value {} does not close on its line; a repository file's values fit on one line",
            shown(text)
        )
    };
    let rest_after = |at: usize| text.get(at + 1..).unwrap_or("");
    if quote == '\'' {
        let mut chars = chars.peekable();
        while let Some((at, c)) = chars.next() {
            if c == '\'' {
                if chars.peek().is_some_and(|&(_, n)| n == '\'') {
                    chars.next();
                    value.push('\'');
                } else {
                    return Ok((value, rest_after(at)));
                }
            } else {
                value.push(c);
            }
        }
        return Err(unclosed());
    }
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Ok((value, rest_after(at))),
            '\\' => {
                let Some((_, escape)) = chars.next() else {
                    return Err(unclosed());
                };
                let simple = match escape {
                    '\\' => Some('\\'),
                    '"' => Some('"'),
                    '/' => Some('/'),
                    ' ' => Some(' '),
                    '\t' | 't' => Some('\t'),
                    'n' => Some('\n'),
                    'r' => Some('\r'),
                    '0' => Some('\0'),
                    'a' => Some('\u{7}'),
                    'b' => Some('\u{8}'),
                    'e' => Some('\u{1b}'),
                    'f' => Some('\u{c}'),
                    'v' => Some('\u{b}'),
                    _ => None,
                };
                if let Some(decoded) = simple {
                    value.push(decoded);
                    continue;
                }
                let width = match escape {
                    'x' => 2,
                    'u' => 4,
                    'U' => 8,
                    _ => {
                        return Err(format!(
                            "unknown escape \\{escape} in the double-quoted value {}",
                            shown(text)
                        ));
                    }
                };
                let mut code = 0u32;
                for _ in 0..width {
                    let digit = chars.next().and_then(|(_, d)| d.to_digit(16));
                    let Some(digit) = digit else {
                        return Err(format!(
                            "\\{escape} needs {width} hexadecimal digits in the double-quoted value {}",
                            shown(text)
                        ));
                    };
                    code = code * 16 + digit;
                }
                let Some(decoded) = char::from_u32(code) else {
                    return Err(format!(
                        "\\{escape} names no character in the double-quoted value {}",
                        shown(text)
                    ));
                };
                value.push(decoded);
            }
            _ => value.push(c),
        }
    }
    Err(unclosed())
}

/// A one-line flow mapping `{key: value, ...}` starting at `text`; only
/// blanks and a comment may follow its `}`.
fn flow_mapping(text: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let unclosed = || {
        format!(
            "the {{...}} mapping {} does not close on its line; write it on one line",
            shown(text)
        )
    };
    let blanks = [' ', '\t'];
    let mut pairs = Vec::new();
    let mut rest = text.get(1..).unwrap_or("");
    loop {
        rest = rest.trim_start_matches(blanks);
        if rest.is_empty() || rest.starts_with('#') {
            return Err(unclosed());
        }
        if let Some(after) = rest.strip_prefix('}') {
            rest = after;
            break;
        }
        // The key.
        let key;
        if rest.starts_with(['"', '\'']) {
            let (k, after) = quoted(rest)?;
            key = k;
            rest = after.trim_start_matches(blanks);
        } else {
            if let Some(reason) = unsupported_start(rest) {
                return Err(format!("{reason} (in the {{...}} mapping)"));
            }
            let (k, after) = plain(rest, true);
            if k.is_empty() {
                return Err(format!(
                    "expected a key in the {{...}} mapping, found {}",
                    shown(trim_blanks(rest))
                ));
            }
            key = k.to_owned();
            rest = after;
        }
        // Its value, if any.
        let mut value = None;
        if let Some(after) = rest.strip_prefix(':') {
            rest = after.trim_start_matches(blanks);
            if !rest.starts_with([',', '}']) && !rest.is_empty() && !rest.starts_with('#') {
                let (v, after) = scalar(rest, true, &key)?;
                value = Some(v);
                rest = after.trim_start_matches(blanks);
            }
        }
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else if !rest.starts_with('}') {
            if rest.is_empty() || rest.starts_with('#') {
                return Err(unclosed());
            }
            if rest.starts_with(':') {
                return Err(unexpected_after(&key, rest));
            }
            let after = if value.is_some() {
                "the value of "
            } else {
                "the key "
            };
            return Err(format!(
                "expected \",\" or \"}}\" after {after}{} in the {{...}} mapping, found {}",
                shown(&key),
                shown(trim_blanks(rest))
            ));
        }
        pairs.push((key, value));
    }
    let rest = rest.trim_start_matches(blanks);
    if !rest.is_empty() && !rest.starts_with('#') {
        return Err(format!(
            "unexpected {} after the {{...}} mapping",
            shown(trim_blanks(rest))
        ));
    }
    Ok(pairs)
}

// ---------------------------------------------------------------- writing

/// Writes `policy` as a repository file of `format`, for the original
/// cleanreg (`-f FILE`, without `-cf`, `-k`, `-s`, `-re` or `-i`) and for
/// [`parse_reposfile`] with [`crate::reposfile_policy`].
///
/// Such a file can say only this: the repositories it names, by exact
/// name, each keeping its newest N images (text and YAML) and images
/// created since a date (YAML only); every other repository is left alone.
/// So the default rule must set nothing, and every repository rule must use
/// an exact name, set `keep_newest` and/or `keep_newer_than` (the latter
/// only in YAML) and nothing else. An exact-name rule that sets nothing
/// keeps everything, as the file does for a repository it leaves out, so it
/// is left out.
///
/// Otherwise the error lists, one sentence each, everything that cannot be
/// said.
pub fn write_reposfile(policy: &Policy, format: ReposfileFormat) -> Result<String, Vec<String>> {
    let mut problems = Vec::new();
    let format_name = match format {
        ReposfileFormat::Text => "the text repository file",
        ReposfileFormat::Yaml => "the YAML repository file",
    };
    let default_fields = extra_fields(&policy.default, false, true);
    if !default_fields.is_empty() {
        problems.push(format!(
            "the default rule sets {}: {format_name} cannot change repositories it does not \
             name (the original needs -cf and its flags for that); clear the default rule",
            default_fields.join(", ")
        ));
    }
    let mut out = String::new();
    match format {
        ReposfileFormat::Text => out.push_str("# repository  images-to-keep\n"),
        ReposfileFormat::Yaml => out.push_str("# repository: {keepimages: N, keepsince: DATE}\n"),
    }
    for (pattern, rule) in &policy.repositories {
        let name = match pattern.as_str().parse::<RepositoryName>() {
            Ok(name) if pattern.is_exact() => name,
            _ => {
                problems.push(format!(
                    "rule {pattern}: {format_name} names repositories exactly, not by glob"
                ));
                continue;
            }
        };
        let fields = extra_fields(rule, true, format == ReposfileFormat::Yaml);
        if !fields.is_empty() {
            problems.push(format!(
                "rule {pattern}: {format_name} cannot say {}",
                fields.join(", ")
            ));
            continue;
        }
        if !rule.has_limit() {
            continue;
        }
        match format {
            ReposfileFormat::Text => {
                let count = rule
                    .keep_newest
                    .expect("checked: the only field it can say");
                out.push_str(&format!("{name} {count}\n"));
            }
            ReposfileFormat::Yaml => {
                let mut settings = Vec::new();
                if let Some(count) = rule.keep_newest {
                    settings.push(format!("keepimages: {count}"));
                }
                if let Some(since) = &rule.keep_newer_than {
                    settings.push(format!("keepsince: {}", yaml_since(since.0)));
                }
                out.push_str(&format!(
                    "{}: {{{}}}\n",
                    yaml_name(&name),
                    settings.join(", ")
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// The fields of `rule` a repository file cannot carry. `limits`: whether
/// `keep_newest` can be said; `since`: whether `keep_newer_than` can.
fn extra_fields(rule: &Rule, limits: bool, since: bool) -> Vec<&'static str> {
    let mut fields = Vec::new();
    if rule.keep_newest.is_some() && !limits {
        fields.push("keep_newest");
    }
    if rule.keep_younger_than_days.is_some() {
        fields.push("keep_younger_than_days");
    }
    if rule.keep_newer_than.is_some() && !(limits && since) {
        fields.push("keep_newer_than");
    }
    if !rule.keep_tags.is_empty() {
        fields.push("keep_tags");
    }
    if rule.only_tags.is_some() {
        fields.push("only_tags");
    }
    if rule.skip_shared_digests {
        fields.push("skip_shared_digests");
    }
    if rule.delete_unknown_age {
        fields.push("delete_unknown_age");
    }
    if rule.delete_untagged {
        fields.push("delete_untagged");
    }
    if rule.remove_tags.is_some() {
        fields.push("remove_tags");
    }
    fields
}

/// A repository name as a YAML key: plain, unless YAML readers other than
/// ours would take it for a number, a boolean or null.
fn yaml_name(name: &RepositoryName) -> String {
    let text = name.as_str();
    let keyword = matches!(
        text.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "~"
    );
    let numeric = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
    if keyword || numeric {
        format!("\"{text}\"")
    } else {
        text.to_owned()
    }
}

/// A `keepsince` value in one of the original's forms when it has one
/// (`2026-01-31`, `2026-01-31T12:00:00`, read as UTC), else RFC 3339 quoted.
fn yaml_since(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    if !(0..=9999).contains(&utc.year()) || utc.nanosecond() != 0 {
        return format!("\"{}\"", crate::since::format_since(utc));
    }
    let date = format!(
        "{:04}-{:02}-{:02}",
        utc.year(),
        u8::from(utc.month()),
        utc.day()
    );
    if (utc.hour(), utc.minute(), utc.second()) == (0, 0, 0) {
        date
    } else {
        format!(
            "{date}T{:02}:{:02}:{:02}",
            utc.hour(),
            utc.minute(),
            utc.second()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const TEXT_EXAMPLE: &str = "# repository  images-to-keep\nmysql 5\nteam/app 10\n";

    const YAML_EXAMPLE: &str = "\
consul:
  tag: OnlyThisTag
  keepimages: 20
  keepsince: 2000-12-24T12:31:59
elasticsearch:
  keepimages: 20
  keepsince: 20000101
dummybox:
  keepimages: 0
\"team/app\": {keepimages: 3, tag: '^ci-.*$'}
";

    fn entry(repository: &str, line: usize) -> ReposfileEntry {
        ReposfileEntry {
            repository: repository.parse().unwrap(),
            line,
            tag: None,
            keep_images: None,
            keep_since: None,
        }
    }

    fn counted(repository: &str, line: usize, keep: usize) -> ReposfileEntry {
        ReposfileEntry {
            keep_images: Some(keep),
            ..entry(repository, line)
        }
    }

    fn parse(text: &str) -> Reposfile {
        parse_reposfile(text).unwrap_or_else(|e| panic!("{text:?} rejected: {e}"))
    }

    fn yaml(text: &str) -> Vec<ReposfileEntry> {
        let file = parse(text);
        assert_eq!(file.format, ReposfileFormat::Yaml, "{text:?}");
        file.entries
    }

    fn fails(text: &str) -> ReposfileError {
        match parse_reposfile(text) {
            Ok(file) => panic!("{text:?} accepted as {file:?}"),
            Err(e) => e,
        }
    }

    /// The error's line and message, for exact comparisons.
    fn failure(text: &str) -> (usize, String) {
        let e = fails(text);
        (e.line, e.message)
    }

    // ------------------------------------------------------------ format

    #[test]
    fn an_empty_file_is_text_without_entries() {
        for text in [
            "",
            "\n\n",
            "   \n\t\n",
            "# only\n  # comments\n",
            "\u{feff}",
        ] {
            assert_eq!(
                parse(text),
                Reposfile {
                    format: ReposfileFormat::Text,
                    entries: vec![]
                },
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_colon_outside_comments_means_yaml() {
        assert_eq!(
            parse("mysql 5 # keep: five\n").format,
            ReposfileFormat::Text
        );
        assert_eq!(parse("# a: b\nmysql 5\n").format, ReposfileFormat::Text);
        assert_eq!(parse("mysql:\n").format, ReposfileFormat::Yaml);
        let (line, message) = failure("mysql 5\nconsul:\n");
        assert_eq!(line, 1);
        assert!(message.contains("\"REPOSITORY:\""), "{message}");
    }

    #[test]
    fn a_lone_document_marker_is_empty_yaml() {
        for text in ["---\n", "--- # nothing yet\n", "# head\n---\n\n# tail\n"] {
            assert_eq!(
                parse(text),
                Reposfile {
                    format: ReposfileFormat::Yaml,
                    entries: vec![]
                },
                "{text:?}"
            );
        }
    }

    #[test]
    fn the_error_display_is_prefixed_with_the_line() {
        let e = fails("mysql five\n");
        assert_eq!(
            e.to_string(),
            "line 1: expected \"REPOSITORY COUNT\" (like \"team/app 5\"), found \"mysql five\""
        );
    }

    // ------------------------------------------------------------ text

    #[test]
    fn reads_the_text_example() {
        let file = parse(TEXT_EXAMPLE);
        assert_eq!(file.format, ReposfileFormat::Text);
        assert_eq!(
            file.entries,
            vec![counted("mysql", 2, 5), counted("team/app", 3, 10)]
        );
    }

    #[test]
    fn text_allows_comments_blanks_and_tabs() {
        let text = "\n  # heading\nmysql\t5   # trailing comment\n\n \t redis  0\t\n# mysql 9\nteam/app 10#tight\n";
        assert_eq!(
            parse(text).entries,
            vec![
                counted("mysql", 3, 5),
                counted("redis", 5, 0),
                counted("team/app", 7, 10)
            ]
        );
    }

    #[test]
    fn text_reports_a_missing_count() {
        assert_eq!(
            failure("mysql 5\n\nredis\n"),
            (
                3,
                "expected \"REPOSITORY COUNT\" (like \"team/app 5\"), found \"redis\" without a count"
                    .to_owned()
            )
        );
        assert_eq!(failure("redis # 5\n").0, 1);
    }

    #[test]
    fn text_reports_extra_words() {
        assert_eq!(
            failure("# x\nmysql 5 6\n"),
            (
                2,
                "expected \"REPOSITORY COUNT\" (like \"team/app 5\"), found \"mysql 5 6\" with more than two words"
                    .to_owned()
            )
        );
    }

    #[test]
    fn text_reports_a_count_that_is_no_whole_number() {
        assert_eq!(
            failure("mysql 5\n\nteam/app five\n"),
            (
                3,
                "expected \"REPOSITORY COUNT\" (like \"team/app 5\"), found \"team/app five\""
                    .to_owned()
            )
        );
        for count in [
            "-1",
            "+5",
            "2.5",
            "1e3",
            "0x10",
            "99999999999999999999999999",
        ] {
            let (line, message) = failure(&format!("mysql {count}\n"));
            assert_eq!(line, 1);
            assert!(message.contains(count), "{message}");
        }
    }

    #[test]
    fn text_reports_an_invalid_repository_name() {
        let expected = "Team/App"
            .parse::<RepositoryName>()
            .unwrap_err()
            .to_string();
        assert_eq!(failure("mysql 5\nTeam/App 3\n"), (2, expected));
    }

    #[test]
    fn text_reports_a_duplicate_with_both_lines() {
        assert_eq!(
            failure("mysql 1\nteam/app 2\n\n# again\n\n\nteam/app 3\n"),
            (7, "team/app is already listed on line 2".to_owned())
        );
    }

    #[test]
    fn text_takes_crlf_and_a_bom() {
        let text = "\u{feff}# head\r\nmysql 5\r\n\r\nteam/app 10\r\n";
        let file = parse(text);
        assert_eq!(file.format, ReposfileFormat::Text);
        assert_eq!(
            file.entries,
            vec![counted("mysql", 2, 5), counted("team/app", 4, 10)]
        );
        assert_eq!(failure("\u{feff}mysql\r\n").0, 1);
    }

    // ------------------------------------------------------------ YAML

    fn yaml_example_entries() -> Vec<ReposfileEntry> {
        vec![
            ReposfileEntry {
                tag: Some("OnlyThisTag".to_owned()),
                keep_images: Some(20),
                keep_since: Some(datetime!(2000-12-24 12:31:59 UTC)),
                ..entry("consul", 1)
            },
            ReposfileEntry {
                keep_images: Some(20),
                keep_since: Some(datetime!(2000-01-01 0:00 UTC)),
                ..entry("elasticsearch", 5)
            },
            counted("dummybox", 8, 0),
            ReposfileEntry {
                tag: Some("^ci-.*$".to_owned()),
                keep_images: Some(3),
                ..entry("team/app", 10)
            },
        ]
    }

    #[test]
    fn reads_the_yaml_example() {
        assert_eq!(yaml(YAML_EXAMPLE), yaml_example_entries());
    }

    #[test]
    fn yaml_takes_crlf_and_a_bom() {
        let text = format!("\u{feff}{}", YAML_EXAMPLE.replace('\n', "\r\n"));
        assert_eq!(yaml(&text), yaml_example_entries());
        let (line, _) = failure("\u{feff}a:\r\n  keepimages: x\r\n");
        assert_eq!(line, 2);
    }

    #[test]
    fn yaml_allows_comments_blanks_and_a_document_marker() {
        let text = "\
# repositories to clean
--- # the document

consul:   # the service mesh
  # twenty is plenty
  keepimages: 20 # trailing

    # a comment indented anywhere
  tag: a#b   # '#' inside a plain value stays
redis: # nothing nested
";
        assert_eq!(
            yaml(text),
            vec![
                ReposfileEntry {
                    tag: Some("a#b".to_owned()),
                    keep_images: Some(20),
                    ..entry("consul", 4)
                },
                entry("redis", 10),
            ]
        );
    }

    #[test]
    fn yaml_repositories_without_settings() {
        assert_eq!(
            yaml("a:\nb: {}\nc: # none\n\"d\":\n"),
            vec![entry("a", 1), entry("b", 2), entry("c", 3), entry("d", 4)]
        );
    }

    #[test]
    fn yaml_takes_any_consistent_indentation() {
        let text = "  a:\n      keepimages: 1\n      tag: x\n  b:\n   keepimages: 2\n";
        assert_eq!(
            yaml(text),
            vec![
                ReposfileEntry {
                    tag: Some("x".to_owned()),
                    ..counted("a", 1, 1)
                },
                counted("b", 4, 2)
            ]
        );
    }

    #[test]
    fn yaml_reads_quoted_keys_and_values() {
        let text = r#"'team/app':
  "tag": 'it''s'
  'keepimages': "7"
  keepsince: '2026-01-02T03:04:05+02:00'
"x/y" : {"tag": "a\"b\\c\u00e9\x41\/"}
z: {'keepsince':"20260102"}
"#;
        assert_eq!(
            yaml(text),
            vec![
                ReposfileEntry {
                    tag: Some("it's".to_owned()),
                    keep_images: Some(7),
                    keep_since: Some(datetime!(2026-01-02 1:04:05 UTC)),
                    ..entry("team/app", 1)
                },
                ReposfileEntry {
                    tag: Some("a\"b\\céA/".to_owned()),
                    ..entry("x/y", 5)
                },
                ReposfileEntry {
                    keep_since: Some(datetime!(2026-01-02 0:00 UTC)),
                    ..entry("z", 6)
                },
            ]
        );
    }

    #[test]
    fn yaml_quoted_values_keep_what_plain_ones_cannot() {
        let text = "a:\n  tag: ' spaced: #not a comment '\nb: {tag: \"x, {y}\"}\n";
        let entries = yaml(text);
        assert_eq!(entries[0].tag.as_deref(), Some(" spaced: #not a comment "));
        assert_eq!(entries[1].tag.as_deref(), Some("x, {y}"));
    }

    #[test]
    fn yaml_plain_scalars_are_text() {
        let entries =
            yaml("a:\n  tag: 1.0\nb:\n  tag: true\nc: {tag: ~}\nd:\n  tag: ^v[0-9]+(-rc)?$\n");
        let tags: Vec<_> = entries.iter().map(|e| e.tag.as_deref()).collect();
        assert_eq!(
            tags,
            [
                Some("1.0"),
                Some("true"),
                Some("~"),
                Some("^v[0-9]+(-rc)?$")
            ]
        );
    }

    #[test]
    fn yaml_flow_mappings() {
        let entries = yaml(
            "a: {  }\nb: {keepimages: 1,}\nc: { tag : x , keepimages : 2 } # done\nd: {keepsince: 2000-12-24T12:31:59, tag: a:b}\n",
        );
        assert_eq!(entries[0], entry("a", 1));
        assert_eq!(entries[1], counted("b", 2, 1));
        assert_eq!(
            entries[2],
            ReposfileEntry {
                tag: Some("x".to_owned()),
                ..counted("c", 3, 2)
            }
        );
        assert_eq!(
            entries[3],
            ReposfileEntry {
                tag: Some("a:b".to_owned()),
                keep_since: Some(datetime!(2000-12-24 12:31:59 UTC)),
                ..entry("d", 4)
            }
        );
    }

    #[test]
    fn yaml_tabs_after_the_indentation_are_blanks() {
        assert_eq!(
            yaml("a:\t{keepimages:\t4}\t# c\n"),
            vec![counted("a", 1, 4)]
        );
        assert_eq!(yaml("a:\n  keepimages:\t4\t\n"), vec![counted("a", 1, 4)]);
    }

    #[test]
    fn yaml_reports_tab_indentation() {
        assert_eq!(
            failure("consul:\n\tkeepimages: 3\n"),
            (2, "tabs cannot indent YAML; use spaces".to_owned())
        );
        assert_eq!(failure("consul:\n  \tkeepimages: 3\n").0, 2);
        // A blank or comment line may hold tabs.
        assert_eq!(
            yaml("a:\n\t\n\t# c\n  keepimages: 1\n"),
            vec![counted("a", 1, 1)]
        );
    }

    #[test]
    fn yaml_reports_an_unknown_key() {
        assert_eq!(
            failure("consul:\n  tag: x\n\n\n  keepimage: 20\n"),
            (
                5,
                "unknown key \"keepimage\" for consul; expected tag, keepimages or keepsince"
                    .to_owned()
            )
        );
        assert_eq!(failure("a: {Tag: x}\n").0, 1);
        let (line, message) = failure("a: {keepimages:3}\n");
        assert_eq!(line, 1);
        assert!(message.contains("space after"), "{message}");
    }

    #[test]
    fn yaml_reports_a_duplicate_repository_with_both_lines() {
        assert_eq!(
            failure("team/app:\n  keepimages: 1\nother:\n\"team/app\": {}\n"),
            (4, "team/app is already listed on line 1".to_owned())
        );
    }

    #[test]
    fn yaml_reports_a_duplicate_key_with_both_lines() {
        assert_eq!(
            failure("consul:\n  keepimages: 1\n  tag: x\n  keepimages: 2\n"),
            (
                4,
                "keepimages for consul is already set on line 2".to_owned()
            )
        );
        assert_eq!(
            failure("a:\n\nb: {tag: x, tag: y}\n"),
            (3, "tag is given twice for b".to_owned())
        );
    }

    #[test]
    fn yaml_reports_a_bad_keepimages() {
        assert_eq!(
            failure("a:\n  tag: x\n\n  keepimages: many\n"),
            (
                4,
                "keepimages must be a whole number of images, found \"many\"".to_owned()
            )
        );
        for bad in ["-1", "1.5", "+3", "''", "\"\"", "1_000", "0x10", "null"] {
            let (line, message) = failure(&format!("a:\n  keepimages: {bad}\n"));
            assert_eq!(line, 2, "{bad}");
            assert!(message.starts_with("keepimages must be"), "{message}");
        }
    }

    #[test]
    fn yaml_reports_a_bad_keepsince_with_its_text() {
        let since = parse_since("2026-13-01").unwrap_err();
        assert_eq!(
            failure("x:\n  keepsince: 2026-13-01\n"),
            (2, format!("keepsince {since}"))
        );
        assert_eq!(failure("a: {keepsince: yesterday}\n").0, 1);
    }

    #[test]
    fn yaml_reports_an_empty_tag() {
        assert_eq!(
            failure("a:\n  tag: ''\n"),
            (
                2,
                "tag for a is empty; expected a tag or a regular expression".to_owned()
            )
        );
    }

    #[test]
    fn yaml_reports_a_key_without_a_value() {
        assert_eq!(
            failure("a:\n  keepimages:\nb:\n"),
            (
                2,
                "keepimages for a has no value; expected a whole number of images".to_owned()
            )
        );
        assert_eq!(failure("a:\n  tag: # none\n").0, 2);
        assert_eq!(failure("a: {keepsince}\n").0, 1);
        assert_eq!(failure("a: {keepsince: , tag: x}\n").0, 1);
    }

    #[test]
    fn yaml_reports_a_third_level() {
        assert_eq!(
            failure("a:\n  tag:\n    name: x\n"),
            (3, TOO_DEEP.to_owned())
        );
        assert_eq!(failure("a:\n  tag: x\n    more\n").0, 3);
        assert_eq!(failure("a:\n  tag: {x: y}\n").0, 2);
        assert_eq!(failure("a: {tag: {x: y}}\n").0, 1);
    }

    #[test]
    fn yaml_reports_inconsistent_indentation() {
        assert_eq!(
            failure("a:\n    tag: x\n  keepimages: 1\n"),
            (
                3,
                "expected the settings of a indented by 4 spaces like line 2, found 2 spaces"
                    .to_owned()
            )
        );
        assert_eq!(
            failure("  a:\nb:\n"),
            (
                2,
                "expected the repositories indented by 2 spaces like line 1, found 0 spaces"
                    .to_owned()
            )
        );
    }

    #[test]
    fn yaml_reports_settings_below_a_flow_mapping() {
        assert_eq!(
            failure("a: {tag: x}\n  keepimages: 1\n"),
            (
                2,
                "the settings of a are given on line 1 as {...}; nothing can be nested below them"
                    .to_owned()
            )
        );
    }

    #[test]
    fn yaml_reports_a_repository_with_a_plain_value() {
        assert_eq!(
            failure("consul:\n  keepimages: 1\ndummybox: 5\n"),
            (
                3,
                "expected the settings of dummybox nested below it or as {keepimages: 3}, found \"5\""
                    .to_owned()
            )
        );
        let (line, message) = failure("consul:\nkeepimages: 20\n");
        assert_eq!(line, 2);
        assert!(
            message.contains("not nested below a repository"),
            "{message}"
        );
    }

    #[test]
    fn yaml_reports_an_invalid_repository_name() {
        let expected = "Consul".parse::<RepositoryName>().unwrap_err().to_string();
        assert_eq!(failure("a:\nConsul:\n"), (2, expected));
        assert_eq!(failure("\"\": {}\n").0, 1);
    }

    #[test]
    fn yaml_reports_unsupported_features() {
        for (text, line, needle) in [
            ("a: &base\n", 1, "anchors"),
            ("a:\n  tag: &t x\n", 2, "anchors"),
            ("a:\n  tag: *t\n", 2, "aliases"),
            ("*a: {}\n", 1, "aliases"),
            ("a:\n  tag: |\n    x\n", 2, "multi-line"),
            ("a:\n  tag: >-\n", 2, "multi-line"),
            ("- a\n- b: {}\n", 1, "lists"),
            ("a:\n  - tag: x\n", 2, "lists"),
            ("a:\n  tag: [x, y]\n", 2, "mapping or list"),
            ("a:\n  tag: !!str x\n", 2, "YAML tags"),
            ("%YAML 1.2\n---\na:\n", 1, "directives"),
            ("? a\n: {}\n", 1, "complex keys"),
            ("a:\n  tag: @x\n", 2, "quotes"),
            ("{a: {}}\n", 1, "key cannot start"),
            ("a:\n  tag: \"open\n", 2, "does not close"),
            ("a:\n  tag: 'open\n  'x\n", 2, "does not close"),
            ("a: {tag: x\n", 1, "does not close"),
            ("a: {tag: x # c}\n", 1, "does not close"),
            ("a: {tag: x} y\n", 1, "after the {...} mapping"),
            ("a: {tag: x y: z}\n", 1, "put it in quotes"),
            ("a: {tag: \"x\" y}\n", 1, "expected \",\" or \"}\""),
            ("a:\n  tag: 'x' y\n", 2, "unexpected"),
            ("a:\n  tag: x: y\n", 2, "put it in quotes"),
            ("a:\n  tag: \"\\q\"\n", 2, "unknown escape"),
            ("a:\n  tag: \"\\u12\"\n", 2, "hexadecimal"),
            ("a:\n  tag: \"\\ud800\"\n", 2, "names no character"),
            ("a:\n---\nb:\n", 2, "one YAML document"),
            ("  ---\na:\n", 1, "one YAML document"),
            ("a:\n  keepimages:3\n", 2, "space after"),
            ("team/app:latest\nx:\n", 1, "space after"),
            ("a:\n  keepimages 3\n", 2, "\"KEY: VALUE\""),
            ("a:\nmysql 5\n", 2, "\"REPOSITORY:\""),
            (": x\n", 1, "no key"),
            ("a: {: x}\n", 1, "expected a key"),
        ] {
            let e = fails(text);
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.message.contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn messages_shorten_long_input() {
        let long = "x".repeat(5000);
        for text in [
            format!("a:\n  keepimages: {long}\n"),
            format!("a:\n  keepsince: {long}\n"),
            format!("a:\n  {long}: 1\n"),
            format!("mysql {long}\n"),
        ] {
            let e = fails(&text);
            assert!(e.message.len() < 400, "{}", e.message.len());
        }
    }

    // ------------------------------------------------------------ robustness

    /// A tiny deterministic generator (64-bit LCG, Knuth's constants).
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            self.0 >> 33
        }

        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next()).unwrap_or(0) % n.max(1)
        }
    }

    const INTERESTING: &[char] = &[
        ':', '#', '\'', '"', '\\', '{', '}', ',', '[', ']', '-', ' ', '\t', '\n', '\r', '&', '*',
        '|', '>', '!', '?', '%', '@', '`', '0', '9', 'T', 'x', 'é', '€', '\u{feff}', '\u{0}', '😀',
    ];

    fn mutate(text: &str, rng: &mut Lcg) -> String {
        let mut chars: Vec<char> = text.chars().collect();
        for _ in 0..=rng.below(6) {
            let at = rng.below(chars.len() + 1);
            match rng.below(6) {
                0 | 1 => chars.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
                2 if at < chars.len() => {
                    chars.remove(at);
                }
                3 if at < chars.len() => {
                    chars[at] = char::from_u32(u32::try_from(rng.below(0x11_0000)).unwrap_or(0))
                        .unwrap_or('?');
                }
                4 => {
                    let end = (at + rng.below(20)).min(chars.len());
                    let copy: Vec<char> = chars[at..end].to_vec();
                    let to = rng.below(chars.len() + 1);
                    chars.splice(to..to, copy);
                }
                _ => chars.truncate(at),
            }
        }
        chars.into_iter().collect()
    }

    fn check_no_panic(text: &str) {
        let lines = text.split('\n').count();
        match parse_reposfile(text) {
            Ok(file) => {
                for entry in file.entries {
                    assert!((1..=lines).contains(&entry.line), "{text:?}");
                }
            }
            Err(e) => assert!((1..=lines).contains(&e.line), "{text:?}: {e}"),
        }
    }

    #[test]
    fn mutated_files_never_panic() {
        let seeds = [
            TEXT_EXAMPLE,
            YAML_EXAMPLE,
            "---\n'a''b': {\"tag\": \"\\u00e9\\x41\", keepsince: 2026-01-02T03:04:05.5+02:00}\n",
            "a:\n  tag: ' x '  # c\n  keepsince: 20260102T030405\n",
        ];
        let mut rng = Lcg(0x5eed);
        for round in 0..400 {
            let seed = seeds[round % seeds.len()];
            let text = mutate(seed, &mut rng);
            check_no_panic(&text);
            check_no_panic(&text.replace('\n', "\r\n"));
            let _ = parse_since(&text);
        }
        // Raw bytes, read as text the way a caller would.
        for _ in 0..300 {
            let mut bytes = YAML_EXAMPLE.as_bytes().to_vec();
            for _ in 0..=rng.below(8) {
                let at = rng.below(bytes.len());
                bytes[at] = u8::try_from(rng.below(256)).unwrap_or(0);
            }
            check_no_panic(&String::from_utf8_lossy(&bytes));
        }
    }

    fn round_trip(policy: &Policy, format: ReposfileFormat) -> Policy {
        let text = write_reposfile(policy, format).unwrap();
        let file = parse_reposfile(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(file.format, format, "{text}");
        crate::reposfile_policy("written", &file, &Rule::default(), false).unwrap()
    }

    #[test]
    fn a_written_file_reads_back_to_the_same_policy() {
        let policy = Policy::from_toml(
            "[repositories.mysql]\nkeep_newest = 5\n\
             [repositories.\"team/app\"]\nkeep_newest = 0\n\
             [repositories.\"2024\"]\nkeep_newest = 1\n",
        )
        .unwrap();
        assert_eq!(round_trip(&policy, ReposfileFormat::Text), policy);
        assert_eq!(round_trip(&policy, ReposfileFormat::Yaml), policy);
        assert_eq!(
            write_reposfile(&policy, ReposfileFormat::Text).unwrap(),
            "# repository  images-to-keep\n2024 1\nmysql 5\nteam/app 0\n"
        );

        let dated = Policy::from_toml(
            "[repositories.consul]\nkeep_newest = 20\nkeep_newer_than = \"2000-12-24T12:31:59\"\n\
             [repositories.\"a/b\"]\nkeep_newer_than = \"20000101\"\n\
             [repositories.c]\nkeep_newer_than = \"2026-01-02T03:04:05.5+02:00\"\n",
        )
        .unwrap();
        let yaml = write_reposfile(&dated, ReposfileFormat::Yaml).unwrap();
        assert!(
            yaml.contains("consul: {keepimages: 20, keepsince: 2000-12-24T12:31:59}\n"),
            "{yaml}"
        );
        assert!(yaml.contains("a/b: {keepsince: 2000-01-01}\n"), "{yaml}");
        assert_eq!(round_trip(&dated, ReposfileFormat::Yaml), dated);
        assert_eq!(
            write_reposfile(&dated, ReposfileFormat::Text).unwrap_err(),
            vec![
                "rule a/b: the text repository file cannot say keep_newer_than",
                "rule c: the text repository file cannot say keep_newer_than",
                "rule consul: the text repository file cannot say keep_newer_than",
            ]
        );
    }

    #[test]
    fn what_a_repository_file_cannot_say_is_named() {
        let policy = Policy::from_toml(
            "[default]\nkeep_newest = 3\n\
             [repositories.\"ci/*\"]\nkeep_newest = 1\n\
             [repositories.web]\nkeep_newest = 2\nkeep_tags = ['v.*']\nonly_tags = 'ci-.*'\n\
             [repositories.keepall]\n",
        )
        .unwrap();
        let problems = write_reposfile(&policy, ReposfileFormat::Yaml).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems[0].starts_with("the default rule sets keep_newest: "),
            "{problems:?}"
        );
        assert_eq!(
            problems[1],
            "rule ci/*: the YAML repository file names repositories exactly, not by glob"
        );
        assert_eq!(
            problems[2],
            "rule web: the YAML repository file cannot say keep_tags, only_tags"
        );

        // A rule that keeps everything is what leaving the repository out says.
        let keep_all =
            Policy::from_toml("[repositories.keepall]\n[repositories.x]\nkeep_newest = 1\n")
                .unwrap();
        let text = write_reposfile(&keep_all, ReposfileFormat::Text).unwrap();
        assert_eq!(text, "# repository  images-to-keep\nx 1\n");
        // An empty policy is an empty file: nothing named, nothing cleaned.
        let empty = write_reposfile(&Policy::default(), ReposfileFormat::Yaml).unwrap();
        assert!(parse_reposfile(&empty).unwrap().entries.is_empty());
    }

    #[test]
    fn untagged_deletes_and_tag_removals_are_not_dropped_silently() {
        let policy = Policy::from_toml(
            "[repositories.web]\nkeep_newest = 2\ndelete_untagged = true\n\
             [repositories.api]\nkeep_newest = 2\nremove_tags = 'pr-.*'\n",
        )
        .unwrap();
        for format in [ReposfileFormat::Text, ReposfileFormat::Yaml] {
            let problems = write_reposfile(&policy, format).unwrap_err();
            assert_eq!(problems.len(), 2, "{problems:?}");
            assert!(
                problems[0].ends_with("cannot say remove_tags"),
                "{problems:?}"
            );
            assert!(
                problems[1].ends_with("cannot say delete_untagged"),
                "{problems:?}"
            );
        }
    }
}
