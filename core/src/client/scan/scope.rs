//! Which repositories a scan reads: the scope as given (catalog, names,
//! name prefixes) and the names it comes to, from the catalog if needed.
//!
//! A name prefix (`team/`) can only be expanded through the catalog. When the
//! catalog is refused, the scan stops with `Error::CatalogRefused` naming the
//! prefix rather than scan the plain names alone: the person learns that the
//! scope was not what they wrote. (The CLI's `-n` takes names only.)

use std::collections::BTreeSet;

use crate::client::Client;
use crate::error::Error;
use crate::name::RepositoryName;
use crate::transport::Transport;

/// Which repositories a scan reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanScope {
    /// Every repository of the catalog.
    Catalog,
    /// Just these (the catalog is not read).
    Repositories(Vec<RepositoryName>),
    /// The catalog's repositories whose name starts with one of `prefixes`
    /// (each ending in `/`), and `names` whether the catalog lists them or
    /// not. A registry that does not serve the catalog to this account
    /// cannot expand a prefix: the scan stops with
    /// [`Error::CatalogRefused`] naming the prefixes.
    Prefixes {
        names: Vec<RepositoryName>,
        prefixes: Vec<String>,
    },
}

impl ScanScope {
    /// Reads a list of repositories, one a line: a name, or a name prefix
    /// ending in `/` (`team/` for every repository under `team`); blank
    /// lines and lines starting with `#` are skipped, duplicates dropped.
    /// Nothing listed means the whole catalog; only names means no catalog
    /// read at all. Errors name the line.
    pub fn parse_list(text: &str) -> Result<ScanScope, String> {
        let mut names: Vec<RepositoryName> = Vec::new();
        let mut prefixes: Vec<String> = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = |e: crate::name::NameError| format!("line {}: {line:?}: {e}", number + 1);
            if let Some(stem) = line.strip_suffix('/') {
                stem.parse::<RepositoryName>().map_err(at)?;
                if !prefixes.iter().any(|known| known == line) {
                    prefixes.push(line.to_owned());
                }
            } else {
                let name = line.parse::<RepositoryName>().map_err(at)?;
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        Ok(match (names.is_empty(), prefixes.is_empty()) {
            (true, true) => ScanScope::Catalog,
            (false, true) => ScanScope::Repositories(names),
            _ => ScanScope::Prefixes { names, prefixes },
        })
    }

    /// Whether the scan reads the catalog.
    pub fn needs_catalog(&self) -> bool {
        !matches!(self, ScanScope::Repositories(_))
    }
}

impl<T: Transport> Client<T> {
    /// The repositories `scope` names, in name order, and whether they are
    /// the whole registry (the catalog, unfiltered).
    pub(super) async fn repository_names(
        &self,
        scope: &ScanScope,
    ) -> Result<(Vec<RepositoryName>, bool), Error> {
        Ok(match scope {
            ScanScope::Catalog => (self.catalog_or_refusal(&[]).await?, true),
            ScanScope::Repositories(names) => (names.clone(), false),
            ScanScope::Prefixes { names, prefixes } => {
                let mut chosen: BTreeSet<RepositoryName> = self
                    .catalog_or_refusal(prefixes)
                    .await?
                    .into_iter()
                    .filter(|name| {
                        prefixes
                            .iter()
                            .any(|prefix| name.as_str().starts_with(prefix.as_str()))
                    })
                    .collect();
                chosen.extend(names.iter().cloned());
                (chosen.into_iter().collect(), false)
            }
        })
    }

    /// The catalog; a refusal becomes [`Error::CatalogRefused`].
    async fn catalog_or_refusal(&self, prefixes: &[String]) -> Result<Vec<RepositoryName>, Error> {
        self.catalog().await.map_err(|cause| {
            if cause.refuses_catalog() {
                Error::CatalogRefused {
                    cause: Box::new(cause),
                    prefixes: prefixes.to_vec(),
                }
            } else {
                cause
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<RepositoryName> {
        list.iter().map(|name| name.parse().unwrap()).collect()
    }

    #[test]
    fn a_list_of_names_and_prefixes() {
        assert_eq!(ScanScope::parse_list("").unwrap(), ScanScope::Catalog);
        assert_eq!(
            ScanScope::parse_list("  \n# a comment\n").unwrap(),
            ScanScope::Catalog
        );
        let only = ScanScope::parse_list("team/app\n  base \nteam/app\n").unwrap();
        assert_eq!(only, ScanScope::Repositories(names(&["team/app", "base"])));
        assert!(!only.needs_catalog());
        let mixed = ScanScope::parse_list("team/\nbase\nteam/\n").unwrap();
        assert_eq!(
            mixed,
            ScanScope::Prefixes {
                names: names(&["base"]),
                prefixes: vec!["team/".to_owned()],
            }
        );
        assert!(mixed.needs_catalog());
        let error = ScanScope::parse_list("ok\nBad Name\n").unwrap_err();
        assert!(error.starts_with("line 2: \"Bad Name\""), "{error}");
        assert!(
            ScanScope::parse_list("/\n")
                .unwrap_err()
                .starts_with("line 1")
        );
        assert!(ScanScope::parse_list("a//\n").is_err());
    }
}
