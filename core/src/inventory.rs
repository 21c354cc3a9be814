//! What a registry holds: repositories, their tags and the images behind them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::digest::Digest;
use crate::media_type::MediaType;
use crate::name::{RepositoryName, Tag};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub repositories: BTreeMap<RepositoryName, Repository>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repository {
    /// Where each tag points right now.
    pub tags: BTreeMap<Tag, Digest>,
    /// Every manifest a tag points at, by digest.
    pub images: BTreeMap<Digest, Image>,
}

/// One manifest as the scan found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    pub media_type: MediaType,
    /// Build time from the image config; `None` when it is unknown.
    #[serde(with = "time::serde::rfc3339::option")]
    pub created: Option<OffsetDateTime>,
    /// Config and layer bytes.
    pub size: u64,
}

impl Repository {
    /// The tags in this repository that point at `digest`, in name order.
    pub fn tags_of(&self, digest: &Digest) -> Vec<Tag> {
        self.tags
            .iter()
            .filter(|(_, target)| *target == digest)
            .map(|(tag, _)| tag.clone())
            .collect()
    }

    pub fn tag_count(&self) -> usize {
        self.tags.len()
    }
}

impl Inventory {
    pub fn image_count(&self) -> usize {
        self.repositories.values().map(|r| r.images.len()).sum()
    }

    pub fn tag_count(&self) -> usize {
        self.repositories.values().map(Repository::tag_count).sum()
    }
}
