//! `WWW-Authenticate` challenges: their types, the errors of a malformed
//! header, and the parser (RFC 7235) over the [`Cursor`](super::lexer::Cursor).

use std::fmt;

use super::lexer::{Cursor, is_token68_char};

/// One challenge of a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// HTTP basic auth: send the credentials to the registry itself.
    Basic {
        /// The protection space the registry named, if any.
        realm: Option<String>,
    },
    /// Token auth: ask the token server at `realm` for a bearer token.
    Bearer(BearerChallenge),
    /// A scheme cleanreg does not answer (Negotiate, Digest, ...).
    Other {
        /// The scheme as the registry spelled it.
        scheme: String,
    },
}

/// The parameters of a `Bearer` challenge (Docker token auth).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerChallenge {
    /// The token server's URL, as the registry named it (never empty).
    pub realm: String,
    /// The `service` to name in the token request.
    pub service: Option<String>,
    /// The scope the registry asked for, e.g. `repository:team/app:pull`.
    pub scope: Option<String>,
    /// Why the request failed, e.g. `insufficient_scope` or `invalid_token`.
    pub error: Option<String>,
}

/// Why a `WWW-Authenticate` header could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChallengeError {
    /// The header holds no challenge at all.
    Empty,
    /// Something else was found where the grammar needs `expected`.
    Syntax {
        /// Byte offset in the header.
        at: usize,
        /// What the grammar needs there.
        expected: &'static str,
    },
    /// A quoted string that never ends.
    Unterminated {
        /// Byte offset of the opening quote.
        at: usize,
    },
    /// A parameter named twice in one challenge.
    DuplicateParam {
        /// The challenge's scheme.
        scheme: String,
        /// The parameter's name, lowercase.
        name: String,
    },
    /// A `Bearer` challenge without a (non-empty) `realm`.
    BearerWithoutRealm,
}

const CHALLENGE_FIX: &str =
    "check the auth settings of the registry and of any proxy in front of it";

impl fmt::Display for ChallengeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChallengeError::Empty => write!(
                f,
                "the registry's WWW-Authenticate header names no way to log in: {CHALLENGE_FIX}"
            ),
            ChallengeError::Syntax { at, expected } => write!(
                f,
                "the registry's WWW-Authenticate header is malformed at byte {at} \
                 (expected {expected}): {CHALLENGE_FIX}"
            ),
            ChallengeError::Unterminated { at } => write!(
                f,
                "the registry's WWW-Authenticate header has a quoted string opened at byte {at} \
                 that never ends: {CHALLENGE_FIX}"
            ),
            ChallengeError::DuplicateParam { scheme, name } => write!(
                f,
                "the registry's WWW-Authenticate header names `{name}` twice in its {scheme} \
                 challenge: {CHALLENGE_FIX}"
            ),
            ChallengeError::BearerWithoutRealm => write!(
                f,
                "the registry asks for a Bearer token but its challenge names no realm, so there \
                 is no token server to ask: set the token realm in the registry's auth config \
                 (`auth.token.realm`)"
            ),
        }
    }
}

impl std::error::Error for ChallengeError {}

/// Parses a `WWW-Authenticate` value (RFC 7235): one or more challenges,
/// comma-separated, each a case-insensitive scheme with `key=value` or
/// `key="quoted"` parameters, or with a `token68` (read and ignored).
///
/// A `Bearer` challenge without a realm is an error: there is no token
/// server to ask. Parameter names are case-insensitive; a name given twice in
/// one challenge is an error. Unknown schemes come back as
/// [`Challenge::Other`].
pub fn parse_www_authenticate(header: &str) -> Result<Vec<Challenge>, ChallengeError> {
    let mut cursor = Cursor {
        text: header,
        pos: 0,
    };
    let mut challenges = Vec::new();
    loop {
        cursor.skip_separators();
        if cursor.at_end() {
            break;
        }
        let at = cursor.pos;
        let scheme = cursor.token();
        if scheme.is_empty() {
            return Err(ChallengeError::Syntax {
                at,
                expected: "an auth scheme such as Basic or Bearer",
            });
        }
        let params = parse_params(&mut cursor, scheme)?;
        challenges.push(build_challenge(scheme, params)?);
    }
    if challenges.is_empty() {
        return Err(ChallengeError::Empty);
    }
    Ok(challenges)
}

/// Reads what follows a scheme, up to the next challenge or the end. The
/// names are lowercase; a token68 gives no parameters.
fn parse_params(
    cursor: &mut Cursor<'_>,
    scheme: &str,
) -> Result<Vec<(String, String)>, ChallengeError> {
    let had_space = cursor.skip_ows();
    if cursor.at_end() || cursor.peek() == Some(',') {
        return Ok(Vec::new());
    }
    if !had_space {
        return Err(ChallengeError::Syntax {
            at: cursor.pos,
            expected: "a space after the auth scheme",
        });
    }

    // `Basic dXNlcjpwYXNz==`: a token68 ends the challenge by itself.
    let start = cursor.pos;
    let token68 = cursor.take_while(is_token68_char);
    cursor.take_while(|c| c == '=');
    cursor.skip_ows();
    if !token68.is_empty() && (cursor.at_end() || cursor.peek() == Some(',')) {
        return Ok(Vec::new());
    }
    cursor.pos = start;

    let mut params: Vec<(String, String)> = Vec::new();
    loop {
        let at = cursor.pos;
        let name = cursor.token();
        if name.is_empty() {
            return Err(ChallengeError::Syntax {
                at,
                expected: "a parameter name",
            });
        }
        cursor.skip_ows();
        if !cursor.eat('=') {
            return Err(ChallengeError::Syntax {
                at: cursor.pos,
                expected: "'=' after the parameter name",
            });
        }
        cursor.skip_ows();
        let value = if cursor.peek() == Some('"') {
            cursor.quoted()?
        } else {
            let at = cursor.pos;
            let value = cursor.token();
            if value.is_empty() {
                return Err(ChallengeError::Syntax {
                    at,
                    expected: "a parameter value (a token or a quoted string)",
                });
            }
            value.to_owned()
        };
        let name = name.to_ascii_lowercase();
        if params.iter().any(|(known, _)| *known == name) {
            return Err(ChallengeError::DuplicateParam {
                scheme: scheme.to_owned(),
                name,
            });
        }
        params.push((name, value));

        cursor.skip_ows();
        if cursor.at_end() {
            break;
        }
        if !cursor.eat(',') {
            return Err(ChallengeError::Syntax {
                at: cursor.pos,
                expected: "',' between parameters or challenges",
            });
        }
        cursor.skip_separators();
        if cursor.at_end() {
            break;
        }
        // `name =` continues this challenge; anything else starts the next.
        let next = cursor.pos;
        cursor.token();
        cursor.skip_ows();
        let is_param = cursor.peek() == Some('=');
        cursor.pos = next;
        if !is_param {
            break;
        }
    }
    Ok(params)
}

fn build_challenge(
    scheme: &str,
    mut params: Vec<(String, String)>,
) -> Result<Challenge, ChallengeError> {
    let mut take = |name: &str| {
        params
            .iter()
            .position(|(known, _)| known == name)
            .map(|index| params.swap_remove(index).1)
    };
    if scheme.eq_ignore_ascii_case("basic") {
        Ok(Challenge::Basic {
            realm: take("realm"),
        })
    } else if scheme.eq_ignore_ascii_case("bearer") {
        let realm = take("realm")
            .filter(|realm| !realm.is_empty())
            .ok_or(ChallengeError::BearerWithoutRealm)?;
        Ok(Challenge::Bearer(BearerChallenge {
            realm,
            service: take("service"),
            scope: take("scope"),
            error: take("error"),
        }))
    } else {
        Ok(Challenge::Other {
            scheme: scheme.to_owned(),
        })
    }
}
