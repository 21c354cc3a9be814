//! Real registry and nginx fixtures plus an image seeder, shared by cleanreg's
//! tests, benchmarks and demo so they all run against the real server.
//!
//! Only loopback addresses are used, in tests, benchmarks and the demo
//! alike. The shipped crates (core, cli, app, plugin) never depend on this
//! one.

mod bench;
mod chaos;
mod cleanreg;
pub mod deploy;
mod disk;
mod faulty;
mod fixture;
mod front;
mod gc;
mod hostile;
mod latency;
mod nginx;
mod process;
mod proxy;
mod referrers_front;
mod registry;
mod scenario;
mod seeder;
mod skopeo;
mod tag_delete_front;
mod tls;
mod token;
mod v3_front;

pub use bench::{BenchImage, BenchRegistry, bench_registry, bench_tags, clone_tags_on_disk};
pub use chaos::{ChaosOptions, ChaosProxy, Fault};
pub use cleanreg::{Cleanreg, Ran, arg, outcomes, planned};
pub use disk::{TreeEntry, TreeSnapshot, backdate_revision_links, copy_tree};
pub use faulty::{FaultyServer, Reply, SeenRequest};
pub use fixture::{Fixture, FixtureBuilder, Page, Seed};
pub use gc::{GarbageCollection, GcOptions, garbage_collect, parse_gc_output};
pub use hostile::{
    FAILING_REPOSITORY, HOSTILE_REPOSITORY, HostileOptions, hostile_registry, payload,
};
pub use latency::LatencyProxy;
pub use nginx::{Nginx, NginxOptions, NginxTls, free_loopback_port};
pub use proxy::FailingProxy;
pub use referrers_front::{ReferrersFront, ReferrersRequest};
pub use registry::{Registry, RegistryOptions, TokenAuth};
pub use scenario::{
    SeededImage, SeededRepo, assert_newest_remain, demo, demo_multiarch, many_repositories,
    two_repos_five_images,
};
pub use scenario::{
    Zoo, ZooArtifacts, ZooDates, ZooDockerList, ZooExpectation, ZooMultiarch, ZooSigned,
    protocol_zoo,
};
pub use seeder::{
    ArtifactBlob, ArtifactSpec, COSIGN_SIGNATURE_ANNOTATION, CREATED_ANNOTATION, CosignKind,
    Descriptor, EMPTY_JSON, EMPTY_JSON_DIGEST, Fetched, IndexSpec, Platform, PushedArtifact,
    PushedIndex, PushedReferrersIndex, cosign_tag, referrers_tag,
};
pub use seeder::{
    ImageFormat, ImageSpec, MANIFEST_ACCEPT, PushedImage, SeedError, Seeder, media_types,
    pseudo_random_bytes, sha256_digest,
};
pub use skopeo::{OciImage, skopeo_push};
pub use tag_delete_front::{TagDelete, TagDeleteFront};
pub use tls::{TestTls, TlsFiles};
pub use token::{Access, TokenRequest, TokenServer, TokenServerOptions, TokenUser};
pub use v3_front::{Distribution3, TagPage, store_schema1_manifest};
