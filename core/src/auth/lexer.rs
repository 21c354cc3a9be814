//! The characters of a `WWW-Authenticate` header: a cursor that reads
//! tokens, quoted strings and separators, and the character classes.

use super::challenge::ChallengeError;

/// A position in the header being parsed; never slices off a char boundary.
pub(super) struct Cursor<'a> {
    pub(super) text: &'a str,
    pub(super) pos: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn peek(&self) -> Option<char> {
        self.text
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
    }

    pub(super) fn at_end(&self) -> bool {
        self.peek().is_none()
    }

    pub(super) fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    pub(super) fn eat(&mut self, wanted: char) -> bool {
        if self.peek() == Some(wanted) {
            self.pos += wanted.len_utf8();
            true
        } else {
            false
        }
    }

    /// Takes the longest run of chars matching `keep`.
    pub(super) fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&keep) {
            self.bump();
        }
        self.text.get(start..self.pos).unwrap_or_default()
    }

    /// Skips optional whitespace; returns whether there was any.
    pub(super) fn skip_ows(&mut self) -> bool {
        !self.take_while(|c| c == ' ' || c == '\t').is_empty()
    }

    /// Skips whitespace and the commas of empty list elements.
    pub(super) fn skip_separators(&mut self) {
        self.take_while(|c| matches!(c, ' ' | '\t' | ','));
    }

    pub(super) fn token(&mut self) -> &'a str {
        self.take_while(is_tchar)
    }

    /// Reads a quoted string at the opening quote, undoing `\` escapes.
    pub(super) fn quoted(&mut self) -> Result<String, ChallengeError> {
        let open = self.pos;
        if !self.eat('"') {
            return Err(ChallengeError::Syntax {
                at: open,
                expected: "a quoted string",
            });
        }
        let mut value = String::new();
        loop {
            let at = self.pos;
            match self.bump() {
                None => return Err(ChallengeError::Unterminated { at: open }),
                Some('"') => return Ok(value),
                Some('\\') => match self.bump() {
                    None => return Err(ChallengeError::Unterminated { at: open }),
                    Some(c) if is_forbidden_control(c) => {
                        return Err(ChallengeError::Syntax {
                            at: at + 1,
                            expected: "a visible character after '\\'",
                        });
                    }
                    Some(c) => value.push(c),
                },
                Some(c) if is_forbidden_control(c) => {
                    return Err(ChallengeError::Syntax {
                        at,
                        expected: "visible characters inside quotes",
                    });
                }
                Some(c) => value.push(c),
            }
        }
    }
}

/// RFC 7230 `tchar`.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// The characters of RFC 7235 `token68`, before its trailing `=`s.
pub(super) fn is_token68_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~+/".contains(c)
}

/// Control characters other than tab, which no quoted string may hold.
fn is_forbidden_control(c: char) -> bool {
    c.is_control() && c != '\t'
}
