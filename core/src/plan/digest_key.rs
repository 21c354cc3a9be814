//! Digests as hash-map keys for the planner's tables, with a hasher made
//! for uniformly random hex.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use crate::digest::Digest;

/// A digest as a hash-map key. Digests are uniformly random hex, so their
/// first 16 digits, read once and kept beside the reference, hash them well
/// (a table that grows rehashes without touching the digest again); equality
/// compares the whole digest only when those digits agree.
#[derive(Clone, Copy)]
pub(super) struct DigestKey<'a> {
    prefix: u64,
    pub(super) digest: &'a Digest,
}

impl<'a> DigestKey<'a> {
    pub(super) fn new(digest: &'a Digest) -> Self {
        let hex = digest.hex().as_bytes();
        // Fixed-size reads; a parsed digest has 64 or 128 digits.
        let word = |at: usize| {
            hex.get(at..at + 8)
                .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
                .map_or(hex.len() as u64, u64::from_le_bytes)
        };
        DigestKey {
            prefix: word(0) ^ word(8).rotate_left(29),
            digest,
        }
    }
}

impl DigestKey<'_> {
    /// Which of `shards` shards it belongs to; the same for equal digests.
    pub(super) fn shard(&self, shards: usize) -> usize {
        (self.prefix % shards as u64) as usize
    }
}

impl PartialEq for DigestKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.prefix == other.prefix && self.digest == other.digest
    }
}

impl Eq for DigestKey<'_> {}

impl Hash for DigestKey<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.prefix);
    }
}

/// Mixes the one word a [`DigestKey`] writes (the splitmix64 finaliser),
/// so every bit of the hash depends on every digit hashed.
#[derive(Default)]
pub(super) struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u64(&mut self, word: u64) {
        let mut z = (self.0 ^ word).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        self.0 = z ^ (z >> 31);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub(super) type DigestMap<'a, V> = HashMap<DigestKey<'a>, V, BuildHasherDefault<DigestHasher>>;
