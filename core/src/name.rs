//! Repository and tag names, checked against the distribution grammar.
//!
//! Like digests, names share their text (`Arc<str>`), so the copies every
//! plan and inventory entry makes are cheap.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A repository name such as `team/app`: lowercase path components joined by
/// `/`, each `[a-z0-9]+` runs separated by `.`, `_`, `__` or dashes.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RepositoryName(Arc<str>);

/// A tag such as `v1.2.0`: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(Arc<str>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("invalid repository name {0:?}: expected lowercase path components like team/app")]
    Repository(String),
    #[error(
        "invalid tag {0:?}: expected up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'"
    )]
    Tag(String),
}

const MAX_REPOSITORY_LEN: usize = 255;

fn is_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if alnum(b) {
            i += 1;
            continue;
        }
        // A separator: ".", "_", "__" or one or more "-", always between alnum runs.
        let start = i;
        match b {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < bytes.len() && bytes[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < bytes.len() && bytes[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
        if i == start || i >= bytes.len() || !alnum(bytes[i]) {
            return false;
        }
    }
    true
}

impl FromStr for RepositoryName {
    type Err = NameError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        if input.len() > MAX_REPOSITORY_LEN || !input.split('/').all(is_path_component) {
            return Err(NameError::Repository(input.to_owned()));
        }
        Ok(RepositoryName(Arc::from(input)))
    }
}

impl FromStr for Tag {
    type Err = NameError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let bytes = input.as_bytes();
        let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        let valid = !bytes.is_empty()
            && bytes.len() <= 128
            && word(bytes[0])
            && bytes.iter().all(|&b| word(b) || b == b'.' || b == b'-');
        if !valid {
            return Err(NameError::Tag(input.to_owned()));
        }
        Ok(Tag(Arc::from(input)))
    }
}

macro_rules! string_name {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

string_name!(RepositoryName);
string_name!(Tag);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_repository_names_of_the_grammar() {
        for good in [
            "app",
            "team/app",
            "a/b/c",
            "my.org/app_1",
            "x__y",
            "a--b",
            "library/redis-mirror",
            "0",
        ] {
            assert!(good.parse::<RepositoryName>().is_ok(), "{good:?} rejected");
        }
    }

    #[test]
    fn rejects_repository_names_outside_the_grammar() {
        for bad in [
            "",
            "App",
            "team//app",
            "/app",
            "app/",
            "a___b",
            "-a",
            "a-",
            "a..b",
            "a b",
            "a:b",
        ] {
            assert!(bad.parse::<RepositoryName>().is_err(), "{bad:?} accepted");
        }
        assert!("a".repeat(256).parse::<RepositoryName>().is_err());
    }

    #[test]
    fn checks_tags() {
        for good in ["latest", "v1.2.0", "_x", "A-b.c_d", "sha256-abc.sig"] {
            assert!(good.parse::<Tag>().is_ok(), "{good:?} rejected");
        }
        for bad in ["", ".x", "-x", "a/b", "a:b", "a b"] {
            assert!(bad.parse::<Tag>().is_err(), "{bad:?} accepted");
        }
        assert!("a".repeat(128).parse::<Tag>().is_ok());
        assert!("a".repeat(129).parse::<Tag>().is_err());
    }
}
