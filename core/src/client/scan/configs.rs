//! Phase 4: the config blob of every image, for its build date.

use std::collections::BTreeMap;

use futures_util::stream::{self, StreamExt};
use time::OffsetDateTime;

use super::read::{Previous, Read, Source};
use super::{Reading, ScanProgress};
use crate::cache::Cache;
use crate::client::Client;
use crate::digest::Digest;
use crate::error::{Error, ErrorCode};
use crate::manifest::Manifest;
use crate::name::RepositoryName;
use crate::transport::Transport;

/// Each config digest's build date (`None`: unknown or lost).
pub(super) type ConfigDates = BTreeMap<Digest, Option<OffsetDateTime>>;

impl<T: Transport> Client<T> {
    /// Reads the config blobs of images (not artifacts): once per digest,
    /// and not at all when the previous inventory knows the date.
    pub(super) async fn read_configs(
        &self,
        reading: &mut Reading<'_, '_>,
        previous: Option<&Previous<'_>>,
        cache: &impl Cache,
        progress: &mut dyn FnMut(&ScanProgress),
    ) -> Result<ConfigDates, Error> {
        let mut configs: BTreeMap<&Digest, &RepositoryName> = BTreeMap::new();
        let mut created_by_config: ConfigDates = BTreeMap::new();
        for ((name, _), read) in reading.manifests.iter() {
            if let Read::Fetched(fetched) = read
                && let Manifest::Image {
                    config,
                    artifact_type: None,
                    ..
                } = &fetched.manifest
            {
                if created_by_config.contains_key(&config.digest) {
                    continue;
                }
                match previous.and_then(|previous| previous.config_dates.get(&config.digest)) {
                    Some(created) => {
                        reading.reuse.configs_reused += 1;
                        created_by_config.insert(config.digest.clone(), Some(*created));
                    }
                    None => {
                        configs.entry(&config.digest).or_insert(name);
                    }
                }
            }
        }
        let mut answers = stream::iter(configs.into_iter().map(|(digest, name)| async move {
            (
                digest,
                self.config_created_through(cache, name, digest).await,
            )
        }))
        .buffer_unordered(self.concurrency());
        while let Some((digest, created)) = answers.next().await {
            // A config blob the registry lost leaves the date unknown.
            let created = match created {
                Err(error) if blob_not_found(&error) => {
                    reading.reuse.configs_fetched += 1;
                    None
                }
                Err(error) => return Err(error),
                Ok((created, Source::Cache)) => {
                    reading.reuse.configs_cached += 1;
                    created
                }
                Ok((created, _)) => {
                    reading.reuse.configs_fetched += 1;
                    created
                }
            };
            created_by_config.insert(digest.clone(), created);
            reading.state.blobs_read += 1;
            progress(reading.state);
        }
        Ok(created_by_config)
    }
}

fn blob_not_found(error: &Error) -> bool {
    error.status() == Some(404)
        && matches!(
            error.registry_code(),
            None | Some(ErrorCode::BlobUnknown | ErrorCode::ManifestUnknown)
        )
}
