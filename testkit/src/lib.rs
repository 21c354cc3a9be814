//! Real registry and nginx fixtures plus an image seeder, shared by cleanreg's
//! tests, benchmarks and demo so they all run against the real server.

mod nginx;
mod process;
mod registry;
mod scenario;
mod seeder;

pub use nginx::{Nginx, NginxOptions};
pub use registry::{Registry, RegistryOptions};
pub use scenario::{
    SeededImage, SeededRepo, assert_newest_remain, demo, many_repositories, two_repos_five_images,
};
pub use seeder::{
    ImageFormat, ImageSpec, MANIFEST_ACCEPT, PushedImage, SeedError, Seeder, media_types,
    pseudo_random_bytes, sha256_digest,
};
