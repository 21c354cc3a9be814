//! What the admin wants kept.

use serde::{Deserialize, Serialize};

/// A retention policy, applied to every repository of the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Keep the newest N images (distinct manifests) of each repository.
    pub keep_newest: usize,
}

impl Policy {
    pub fn keep_newest(count: usize) -> Policy {
        Policy { keep_newest: count }
    }
}
