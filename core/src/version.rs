//! Semantic-version tags (`1.4.2`, `v2.0.0-rc.1`) and the release lines
//! that `keep_newest_per` groups images by.
//!
//! A version tag is `MAJOR.MINOR.PATCH` in decimal, optionally after a `v`
//! or `V` and followed by `-PRERELEASE` (dot-separated identifiers). Tags
//! cannot hold a `+`, so build metadata never appears. Two-part tags such as
//! `1.4` are aliases that images carry beside a full version, not versions of
//! their own. Order follows semantic versioning's precedence: numbers
//! compare as numbers, and a pre-release ranks below its release
//! (`1.4.0-rc.2 < 1.4.0`); pre-release identifiers compare one by one,
//! numeric ones as numbers and below alphanumeric ones, and a shorter list
//! ranks below a longer one it starts.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

/// How finely `keep_newest_per` splits a repository's images into lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReleaseLine {
    /// `1.x`, `2.x`, ...
    #[serde(rename = "major")]
    Major,
    /// `1.4.x`, `1.5.x`, ...
    #[serde(rename = "major.minor")]
    MajorMinor,
}

impl fmt::Display for ReleaseLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReleaseLine::Major => "major",
            ReleaseLine::MajorMinor => "major.minor",
        })
    }
}

/// A parsed version tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    /// Empty for a release.
    pre: Vec<Identifier>,
}

/// Numeric identifiers rank below alphanumeric ones (declaration order).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Identifier {
    Numeric(u64),
    Alphanumeric(String),
}

impl Version {
    /// The version a tag spells, if it spells one.
    pub fn parse(tag: &str) -> Option<Version> {
        let text = tag
            .strip_prefix('v')
            .or_else(|| tag.strip_prefix('V'))
            .unwrap_or(tag);
        let (core, pre) = match text.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (text, None),
        };
        let number = |part: &str| -> Option<u64> {
            (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
                .then(|| part.parse().ok())
                .flatten()
        };
        let mut parts = core.split('.');
        let major = number(parts.next()?)?;
        let minor = number(parts.next()?)?;
        let patch = number(parts.next()?)?;
        if parts.next().is_some() {
            return None;
        }
        let pre = match pre {
            None => Vec::new(),
            Some(pre) => pre
                .split('.')
                .map(|part| {
                    if part.is_empty() {
                        None
                    } else if let Some(number) = number(part) {
                        Some(Identifier::Numeric(number))
                    } else {
                        Some(Identifier::Alphanumeric(part.to_owned()))
                    }
                })
                .collect::<Option<Vec<_>>>()?,
        };
        Some(Version {
            major,
            minor,
            patch,
            pre,
        })
    }

    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }

    /// The line this version belongs to at `per`'s granularity.
    pub fn line(&self, per: ReleaseLine) -> Line {
        Line {
            major: self.major,
            minor: match per {
                ReleaseLine::Major => None,
                ReleaseLine::MajorMinor => Some(self.minor),
            },
        }
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.pre.cmp(&other.pre),
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A release line: `1.x` (`minor` unset) or `1.4.x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Line {
    pub major: u64,
    pub minor: Option<u64>,
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.minor {
            Some(minor) => write!(f, "{}.{minor}.x", self.major),
            None => write!(f, "{}.x", self.major),
        }
    }
}

/// The highest version among `tags`, if any spells one.
pub fn highest<'t>(tags: impl IntoIterator<Item = &'t str>) -> Option<Version> {
    tags.into_iter().filter_map(Version::parse).max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(tag: &str) -> Version {
        Version::parse(tag).unwrap_or_else(|| panic!("{tag} is a version"))
    }

    #[test]
    fn reads_versions_with_and_without_prefix_and_prerelease() {
        assert_eq!(
            (v("1.4.2").major, v("1.4.2").minor, v("1.4.2").patch),
            (1, 4, 2)
        );
        assert_eq!(v("v10.0.3"), v("10.0.3"));
        assert_eq!(v("V1.2.3"), v("1.2.3"));
        assert!(v("1.0.0-rc.1").is_prerelease());
        assert!(!v("1.0.0").is_prerelease());
        for not in [
            "latest",
            "1.4",
            "1",
            "1.4.2.7",
            "v",
            "1..2",
            "1.4.x",
            "1.4.2-",
            "1.4.2-rc..1",
            "-1.2.3",
            "1.2.3a",
            "main-1.2.3",
            "vv1.2.3",
            "",
        ] {
            assert_eq!(Version::parse(not), None, "{not}");
        }
    }

    #[test]
    fn precedence_follows_semantic_versioning() {
        // The order semantic versioning's own example gives, then more.
        let ordered = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.2.0",
            "1.10.0",
            "2.0.0",
        ];
        for pair in ordered.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert_eq!(v("1.0.0").cmp(&v("v1.0.0")), Ordering::Equal);
    }

    #[test]
    fn lines_at_either_granularity() {
        assert_eq!(
            v("1.4.2").line(ReleaseLine::MajorMinor).to_string(),
            "1.4.x"
        );
        assert_eq!(v("1.4.2").line(ReleaseLine::Major).to_string(), "1.x");
        assert_eq!(
            v("1.4.0-rc.1").line(ReleaseLine::MajorMinor),
            v("1.4.9").line(ReleaseLine::MajorMinor)
        );
        assert_eq!(
            highest(["latest", "1.4", "1.4.2", "v1.4.10", "1.5.0-rc.1"]),
            Some(v("1.5.0-rc.1"))
        );
        assert_eq!(highest(["latest", "main"]), None);
    }
}
