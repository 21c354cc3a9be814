//! Shared set-up for the tests against a real registry.

#![allow(dead_code)]

use cleanreg_testkit::{
    Registry, RegistryOptions, SeededRepo, Seeder, assert_newest_remain, two_repos_five_images,
};
use time::OffsetDateTime;

pub const USER: &str = "admin";
pub const PASSWORD: &str = "correct horse";

/// A registry seeded with two repositories of five images each.
pub struct Seeded {
    pub registry: Registry,
    pub seeder: Seeder,
    pub repos: Vec<SeededRepo>,
}

pub fn seeded(options: RegistryOptions) -> Seeded {
    let registry = Registry::start(options).expect("start docker-registry");
    let seeder = Seeder::new(&registry.url(), registry.credentials());
    let newest = OffsetDateTime::now_utc() - time::Duration::days(1);
    let repos = two_repos_five_images(&seeder, newest).expect("seed the registry");
    Seeded {
        registry,
        seeder,
        repos,
    }
}

pub fn with_auth() -> RegistryOptions {
    RegistryOptions {
        basic_auth: Some((USER.into(), PASSWORD.into())),
        ..RegistryOptions::default()
    }
}

impl Seeded {
    pub fn repo(&self, name: &str) -> &SeededRepo {
        self.repos
            .iter()
            .find(|r| r.name == name)
            .expect("seeded repository")
    }

    /// Asserts through the registry API that exactly the `keep` newest
    /// images of every seeded repository remain, with their tags.
    pub fn assert_newest_remain(&self, keep: usize) {
        assert_newest_remain(&self.seeder, &self.repos, keep);
    }
}

pub mod binary;
