//! The YAML subset's syntax within a line: `KEY: VALUE`, plain, single-
//! and double-quoted scalars, one-line `{...}` mappings, and the YAML
//! features a repository file does not take.

use super::yaml::TOO_DEEP_SHORT;
use super::{shown, trim_blanks};

/// The value after a key's `:`.
pub(super) enum Value {
    /// Nothing (or only a comment).
    Empty,
    Scalar(String),
    /// A one-line `{key: value, ...}`; a key without a value has `None`.
    Flow(Vec<(String, Option<String>)>),
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
pub(super) fn key_and_value(text: &str, shape: &str) -> Result<(String, Value), String> {
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
