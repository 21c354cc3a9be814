//! Reading a registry into an [`Inventory`].

use std::collections::HashMap;

use time::OffsetDateTime;

use crate::client::Client;
use crate::digest::Digest;
use crate::error::Error;
use crate::inventory::{Image, Inventory, Repository};
use crate::manifest::Manifest;
use crate::name::RepositoryName;
use crate::protocol::Reference;
use crate::transport::Transport;

/// Which repositories a scan reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanScope {
    /// Every repository of the catalog.
    Catalog,
    /// Just these (the catalog is not read).
    Repositories(Vec<RepositoryName>),
}

/// How far a scan has come, for a progress display.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanProgress {
    pub repositories_total: usize,
    pub repositories_done: usize,
    pub manifests_read: usize,
    /// The repository being read, if any.
    pub current: Option<RepositoryName>,
}

impl std::fmt::Display for ScanProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} repositories, {} manifests read",
            self.repositories_done, self.repositories_total, self.manifests_read
        )?;
        if let Some(current) = &self.current {
            write!(f, " (reading {current})")?;
        }
        Ok(())
    }
}

impl<T: Transport> Client<T> {
    /// Reads every tag of the scope into an inventory. Any failed read stops
    /// the scan: a plan made from a partial inventory could delete too much.
    pub async fn scan(
        &self,
        scope: &ScanScope,
        progress: &mut dyn FnMut(&ScanProgress),
    ) -> Result<Inventory, Error> {
        let names = match scope {
            ScanScope::Catalog => self.catalog().await?,
            ScanScope::Repositories(names) => names.clone(),
        };
        let mut state = ScanProgress {
            repositories_total: names.len(),
            ..ScanProgress::default()
        };
        progress(&state);
        let mut created_by_config: HashMap<Digest, Option<OffsetDateTime>> = HashMap::new();
        let mut inventory = Inventory::default();
        for name in names {
            state.current = Some(name.clone());
            progress(&state);
            let mut repository = Repository::default();
            for tag in self.tags(&name).await? {
                let fetched = self.manifest(&name, &Reference::Tag(tag.clone())).await?;
                state.manifests_read += 1;
                if !repository.images.contains_key(&fetched.digest) {
                    let created = match &fetched.manifest {
                        Manifest::Image { config, .. } => match created_by_config
                            .get(&config.digest)
                        {
                            Some(known) => *known,
                            None => {
                                let created = self.config_created(&name, &config.digest).await?;
                                created_by_config.insert(config.digest.clone(), created);
                                created
                            }
                        },
                        _ => None,
                    };
                    let image = Image {
                        media_type: fetched.media_type.clone(),
                        created,
                        size: fetched.manifest.content_size(),
                    };
                    repository.images.insert(fetched.digest.clone(), image);
                }
                repository.tags.insert(tag, fetched.digest);
                progress(&state);
            }
            inventory.repositories.insert(name, repository);
            state.repositories_done += 1;
            state.current = None;
            progress(&state);
        }
        Ok(inventory)
    }
}
