//! cleanreg's core: the planner and the registry protocol.
//!
//! Pure by design: no I/O and no clock of its own. Requests go out, waits
//! happen and the time is read through a [`Transport`] that the caller
//! provides (native HTTP in the CLI, `fetch` in the dashboard), and the
//! planner takes the time as a parameter of [`plan()`].
//!
//! It also logs nothing and asks no `Send` of its futures (browser fetch
//! futures are not `Send`), so the same code compiles natively and to
//! `wasm32-unknown-unknown`. Shells (the CLI, the dashboard, the plugin)
//! never decide what to delete themselves: they ask this crate.

mod auth;
mod cache;
mod client;
mod credentials;
mod digest;
mod error;
mod history;
mod import;
mod in_use;
mod inventory;
mod manifest;
mod media_type;
mod name;
mod original;
mod permissions;
mod plan;
mod plan_file;
mod policy;
pub mod protocol;
mod recovery;
mod reposfile;
mod since;
pub mod storage;
mod transport;
mod version;

pub use auth::{
    AuthError, BearerChallenge, Challenge, ChallengeError, DEFAULT_TOKEN_LIFETIME,
    MAX_TOKEN_LIFETIME, TOKEN_MARGIN, Token, TokenCache, parse_token_response,
    parse_www_authenticate, scope_for, token_request,
};
pub use cache::{Cache, NoCache, RunManifests};
pub use client::apply::{
    ALREADY_GONE, ApplyCounts, ApplyReport, EntryOutcome, Outcome, is_delete_refused,
};
pub use client::apply::{CANCELLED, UNVERIFIED, retry_plan};
pub use client::restore::{
    RestoreCounts, RestoreOutcome, RestoreReport, RestoreResult, SkippedTag,
};
pub use client::scan::{Reuse, ScanProgress, ScanScope, ScanSources};
pub use client::untag::{EMPTY_BLOB, RemovedBy};
pub use client::{Client, DEFAULT_CONCURRENCY, RetryPolicy};
pub use credentials::Credentials;
pub use digest::{Algorithm, Digest, DigestError};
pub use error::{Error, ErrorCode, RegistryError};
pub use history::{HISTORY_FORMAT, HistoryRecord, Seen};
pub use import::{
    ImportFormat, ImportReport, Imported, Mapping, POLICY_FORMAT_NAMES, ReportItem, detect_format,
    import_policy, read_policy,
};
pub use in_use::{ImageReference, InUseError, InUseFile, InUseReport, registry_host};
pub use inventory::{
    AttachmentKind, Child, DateSource, Found, Image, ImageKind, Inventory, Repository, Untagged,
    attachment, attachment_tag,
};
pub use manifest::{
    CREATED_ANNOTATION, Descriptor, Manifest, ManifestError, Platform, parse_config_created,
    parse_created, parse_manifest,
};
pub use media_type::{ManifestKind, MediaType};
pub use name::{NameError, RepositoryName, Tag};
pub use original::{OriginalSettings, Selection, reposfile_policy};
pub use permissions::{DeletePermissions, granted_actions};
pub use plan::{
    Blocked, Decision, DeleteReason, KeepReason, Plan, PlanEntry, PlanTotals, Reclaimable, Role,
    UNTAGGED_GRACE, UntagReason, plan, plan_with,
};
pub use plan_file::{PLAN_FILE_FORMAT, PlanFile};
pub use policy::{
    AgeLimit, Policy, PolicyError, PolicyFormat, RepositoryPattern, Rule, Since, TagPattern,
};
pub use protocol::{MAX_BODY_BYTES, MAX_MANIFEST_BYTES, RegistryUrl, UrlError};
pub use recovery::{EntryProblem, RECOVERY_FORMAT, RecoveryEntry, RecoveryError, RecoveryFile};
pub use reposfile::write_reposfile;
pub use reposfile::{Reposfile, ReposfileEntry, ReposfileError, ReposfileFormat, parse_reposfile};
pub use since::{SinceError, format_since, parse_since};
pub use storage::{NoStorage, Storage, StorageBlobs};
pub use transport::{Transport, TransportError};
pub use version::{Line, ReleaseLine, Version};

/// What the admin runs after deleting: the registry frees blobs only in a
/// garbage collection, with the registry stopped or read-only. The config
/// lives at `/etc/docker/registry/config.yml` in Distribution 2.x and at
/// `/etc/distribution/config.yml` in 3.x; `--delete-untagged` keeps the
/// children of multi-platform indexes only from 3.0 on.
pub const GARBAGE_COLLECT_HINT: &str = "Space is freed only by the registry's garbage collection. \
Stop the registry (or set `storage: {maintenance: {readonly: {enabled: true}}}`), then run \
`registry garbage-collect CONFIG`, where CONFIG is `/etc/docker/registry/config.yml` on \
Distribution 2.x (Debian's package: `docker-registry garbage-collect \
/etc/docker/registry/config.yml`) and `/etc/distribution/config.yml` on Distribution 3 \
(`registry:3`), and start it again. Add `--delete-untagged` only on Distribution 3: \
on 2.x it also deletes the platform images that multi-platform indexes list, which breaks \
those images.";

pub mod format;
pub use plan::{PlanBuilder, RepositoryReclaim};
