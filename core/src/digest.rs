//! Content digests (`sha256:<hex>`), validated on parse.
//!
//! A digest shares its text (`Arc<str>`) between copies: plans and
//! inventories copy digests, names and tags for every entry, and a
//! million-tag plan is mostly copying.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256, Sha512};

/// A content address as the registry uses it: `algorithm:hex`.
///
/// Equal and ordered as `(algorithm, hex)` text is; see the `PartialEq`
/// implementation for how.
#[derive(Clone)]
pub struct Digest {
    algorithm: Algorithm,
    /// Shared: plans and inventories copy digests often.
    hex: Arc<str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    /// `sha256` or `sha512`, as digests and storage paths spell it.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid digest {input:?}: {why}")]
pub struct DigestError {
    input: String,
    why: &'static str,
}

impl Digest {
    /// The sha256 digest of exactly these bytes.
    pub fn sha256_of(bytes: &[u8]) -> Digest {
        Digest {
            algorithm: Algorithm::Sha256,
            hex: Arc::from(hex_lower(&Sha256::digest(bytes))),
        }
    }

    /// The digest of these bytes computed with this digest's own algorithm.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        let hex = match self.algorithm {
            Algorithm::Sha256 => hex_lower(&Sha256::digest(bytes)),
            Algorithm::Sha512 => hex_lower(&Sha512::digest(bytes)),
        };
        *hex == *self.hex
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The first 12 hex digits, as registry UIs show them.
    pub fn short(&self) -> &str {
        &self.hex[..12]
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0x0f) as usize] as char);
    }
    out
}

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |why| DigestError {
            input: input.to_owned(),
            why,
        };
        let (algorithm, hex) = input
            .split_once(':')
            .ok_or_else(|| err("expected algorithm:hex"))?;
        let algorithm = match algorithm {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            _ => return Err(err("unsupported algorithm, expected sha256 or sha512")),
        };
        if hex.len() != algorithm.hex_len() {
            return Err(err("wrong number of hex digits"));
        }
        Digest::from_hex(algorithm, hex).ok_or_else(|| err("expected lowercase hex digits"))
    }
}

impl Digest {
    /// The digest with these hex digits, if they are as many lowercase hex
    /// digits as `algorithm` writes; what parsing `algorithm:hex` gives.
    pub(crate) fn from_hex(algorithm: Algorithm, hex: &str) -> Option<Digest> {
        let valid = hex.len() == algorithm.hex_len()
            && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        valid.then(|| Digest {
            algorithm,
            hex: Arc::from(hex),
        })
    }
}

/// The hex digits as big-endian words, eight digits each (both
/// algorithms' digit counts are multiples of eight): word order is text
/// order.
fn words(hex: &str) -> impl Iterator<Item = u64> + '_ {
    hex.as_bytes()
        .chunks_exact(8)
        .map(|chunk| u64::from_be_bytes(chunk.try_into().expect("chunks of 8")))
}

/// Compares the digits eight at a time. In wasm, comparing two byte slices
/// is a loop over single bytes (the `memcmp` the compiler brings along), and
/// the planner compares digests in its busiest loops; the result is the
/// same as comparing the text. Copies share their text, which settles
/// equality without reading it.
impl PartialEq for Digest {
    fn eq(&self, other: &Self) -> bool {
        self.algorithm == other.algorithm
            && (Arc::ptr_eq(&self.hex, &other.hex) || words(&self.hex).eq(words(&other.hex)))
    }
}

impl Eq for Digest {}

impl Ord for Digest {
    fn cmp(&self, other: &Self) -> Ordering {
        self.algorithm.cmp(&other.algorithm).then_with(|| {
            if Arc::ptr_eq(&self.hex, &other.hex) {
                Ordering::Equal
            } else {
                words(&self.hex).cmp(words(&other.hex))
            }
        })
    }
}

impl PartialOrd for Digest {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Hash for Digest {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.algorithm.hash(state);
        self.hex.hash(state);
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Digits from a two-letter alphabet share long prefixes, so the
        /// words differ anywhere, the last one included.
        #[test]
        fn equality_and_order_are_those_of_the_text(
            a in "[ab]{64}",
            b in "[ab]{64}",
            long in any::<bool>(),
        ) {
            let digest = |hex: &str| {
                let (algorithm, hex) = if long {
                    ("sha512", hex.repeat(2))
                } else {
                    ("sha256", hex.to_owned())
                };
                format!("{algorithm}:{hex}").parse::<Digest>().unwrap()
            };
            let (x, y) = (digest(&a), digest(&b));
            prop_assert_eq!(x == y, a == b);
            prop_assert_eq!(x.cmp(&y), a.cmp(&b));
            prop_assert_eq!(x.clone() == x, true);
            let short = Digest::from_hex(Algorithm::Sha256, &a).unwrap();
            let long = Digest::from_hex(Algorithm::Sha512, &a.repeat(2)).unwrap();
            prop_assert!(short != long);
            prop_assert_eq!(short.cmp(&long), Ordering::Less);
        }
    }

    #[test]
    fn sha256_of_empty_input_is_the_well_known_value() {
        assert_eq!(
            Digest::sha256_of(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn parses_and_prints_round_trip() {
        let text = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let digest: Digest = text.parse().unwrap();
        assert_eq!(digest.to_string(), text);
        assert_eq!(digest.short(), "e3b0c44298fc");
        assert!(digest.matches(b""));
        assert!(!digest.matches(b"x"));
    }

    #[test]
    fn rejects_malformed_digests() {
        for bad in [
            "",
            "sha256",
            "md5:abc",
            "sha256:abc",
            "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            "sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "latest",
        ] {
            assert!(bad.parse::<Digest>().is_err(), "{bad:?} was accepted");
        }
    }
}
