//! cleanreg's planner for JavaScript. `cargo xtask plugin` (run by the
//! release build) turns this crate into the ES module `dist/plugin/cleanreg.js`
//! with its `.wasm` and `.d.ts`:
//!
//! ```js
//! import init, { version, parseReposfile, validatePolicy, importPolicy, plan } from './cleanreg.js';
//! await init();
//! const policy = parseReposfile('team/app 3\n');
//! const result = plan(inventory, policy, new Date().toISOString());
//! ```
//!
//! The plugin never talks to a registry: it plans an inventory the caller
//! already has.
//!
//! Values are plain JSON objects whose shapes `plugin/schema/*.schema.json`
//! describe; errors are thrown as `Error`s carrying core's message.
//! The calls take JSON values, not typed wasm-bindgen classes: the caller's
//! objects go through `JSON.stringify` into serde, so the accepted shapes are
//! exactly the documented JSON (and the schemas), and errors name the field
//! path (`inventory.repositories.x: ...`). The plan comes back as core's
//! `Plan` JSON plus `totals` and each entry's `reason` sentence.

mod api;

pub use api::{
    PolicyInput, ReposfileOptions, import_policy_json, parse_reposfile_json, plan_json,
    validate_policy_json,
};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** A digest such as `sha256:` and 64 hex digits. */
export type Digest = string;

/** What a registry holds (schema/inventory.schema.json). */
export interface Inventory {
  repositories: Record<string, Repository>;
  /** Size of every config and layer blob, once per registry. */
  blobs?: Record<Digest, number>;
  /** True when every repository of the registry is in `repositories`. */
  whole_registry?: boolean;
}
export interface Repository {
  /** Where each tag points. */
  tags: Record<string, Digest>;
  /** Every manifest read, by digest. */
  images: Record<Digest, Image>;
  /** Subjects no tag leads to, and whether the registry still has them. */
  subjects?: Record<Digest, boolean>;
  /** Manifests no tag points at, found through scan history, storage or the referrers API. */
  untagged?: Record<Digest, Untagged>;
  /** Manifests something runs, with where that was read: always kept, tags and all. */
  in_use?: Record<Digest, string>;
}
export interface Untagged {
  found: ("history" | "storage" | "referrers")[];
  /** The tags it had when a scan last saw it tagged. */
  last_tags?: string[];
  /** RFC 3339: when a scan last saw a tag lead to it. */
  last_in_use?: string;
  /** RFC 3339: when it was last pushed (from the storage). */
  pushed?: string;
}
export type ImageKind = "image" | "index" | "artifact" | "schema1" | "unknown";
export type DateSource = "config" | "newest_child" | "annotation";
export interface Platform { os: string; architecture: string; variant?: string; }
export interface Image {
  media_type: string;
  kind: ImageKind;
  /** RFC 3339, or null when unknown. */
  created: string | null;
  created_from?: DateSource | null;
  size: number;
  manifest_size?: number;
  children?: { digest: Digest; platform?: Platform }[];
  subject?: Digest;
  artifact_type?: string;
  blobs?: Digest[];
}

/** A retention policy (schema/policy.schema.json, docs/policy.md). */
export interface Policy {
  default?: Rule;
  /** Rules by repository name or glob; the most specific match wins. */
  repositories?: Record<string, Rule>;
}
/** What importPolicy returns: the policy, and for another registry's policy how each part maps. */
export interface ImportedPolicy {
  policy: Policy;
  report: ImportReport | null;
}
export interface ImportReport {
  format: "gitlab" | "ecr" | "harbor" | "zot" | "acr";
  items: { source: string; mapping: "exact" | "approximate" | "not_mapped"; note: string }[];
}
export interface Rule {
  keep_newest?: number;
  /** Count keep_newest per release line read from version tags. */
  keep_newest_per?: "major" | "major.minor";
  keep_younger_than_days?: number;
  /** A date (2026-01-31) or RFC 3339 time. */
  keep_newer_than?: string;
  keep_tags?: string[];
  only_tags?: string;
  /** Keep images with a matching tag, and leave them out of the keep_newest count. */
  exclude_tags?: string[];
  /** Count keep_newest only among the images no age limit keeps. */
  keep_newest_beyond_age?: boolean;
  skip_shared_digests?: boolean;
  delete_unknown_age?: boolean;
  /** Delete manifests no tag points at, with what belongs to them. */
  delete_untagged?: boolean;
  /** Remove the matching tags from kept images (never an image's last tag). */
  remove_tags?: string;
}

/** The original cleanreg's flags that fill what a repository file leaves out. */
export interface ReposfileOptions {
  /** `-k N` */
  keep?: number;
  /** `-s DATE` */
  since?: string;
  /** `-re`: a `tag:` is a regular expression. */
  regex?: boolean;
  /** `-i`: keep digests shared by several tags. */
  ignoreRefTags?: boolean;
}

/** The planner's answer (schema/plan.schema.json). */
export interface Plan {
  now: string;
  policy: Policy;
  /** By repository name; within one, newest first, each image followed by its tag entries, children and attachments; then untagged manifests. */
  entries: PlanEntry[];
  reclaimable: { bytes: number; blobs: number; whole_registry: boolean };
  totals: {
    kept_images: number;
    deleted_images: number;
    deleted_manifests: number;
    deleted_tags: number;
    deleted_bytes: number;
    reclaimable_bytes: number;
    deleted_untagged: number;
    kept_untagged: number;
    removed_tags: number;
    /** Changes apply will not send (entries with `blocked`). */
    blocked?: number;
  };
}
export interface PlanEntry {
  repository: string;
  digest: Digest;
  /** Every tag on the digest: deleting it removes all of them. A `tag` entry: just its tag. */
  tags: string[];
  media_type: string;
  kind: ImageKind;
  role:
    | { role: "image" }
    | { role: "child"; indexes: Digest[]; platform?: Platform }
    | {
        role: "attachment";
        subject: Digest;
        kind: "signature" | "attestation" | "sbom" | "referrer";
        /** The manifest's `artifactType`, or its non-image config media type. */
        artifact_type?: string;
      }
    | ({ role: "untagged" } & Untagged)
    | { role: "tag"; remaining: string[] };
  created: string | null;
  created_from?: DateSource | null;
  size: number;
  platforms?: Platform[];
  /** The repository pattern whose rule decided; absent: the default rule. */
  rule?: string;
  /** `rule` names the reason; its other fields are the reason's details. */
  decision: { decision: "keep" | "delete" | "untag"; reason: { rule: string; [detail: string]: unknown } };
  /** A change apply will not send: the account has no delete permission in the repository. */
  blocked?: { reason: "no_delete_permission"; repository: string };
  /** The decision in words, as the CLI prints it. */
  reason: string;
}
"#;

/// The version of cleanreg this module was built from.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// Reads the original cleanreg's repository file, in its text format
/// (`REPOSITORY COUNT` lines) or YAML, into a policy that names each listed
/// repository and leaves every other one alone.
#[wasm_bindgen(js_name = parseReposfile, unchecked_return_type = "Policy")]
pub fn parse_reposfile(
    text: &str,
    #[wasm_bindgen(unchecked_optional_param_type = "ReposfileOptions")] options: Option<
        js_sys::Object,
    >,
) -> Result<JsValue, JsError> {
    let options = options
        .map(|options| stringify("options", &options))
        .transpose()?;
    from_json(parse_reposfile_json(text, options.as_deref()))
}

/// Checks a policy (an object; or a policy file's TOML or JSON text, or another
/// registry's policy to import: GitLab, ECR, Harbor, zot, `acr purge`) and
/// returns it normalised; throws naming the first invalid field.
#[wasm_bindgen(js_name = validatePolicy, unchecked_return_type = "Policy")]
pub fn validate_policy(
    #[wasm_bindgen(unchecked_param_type = "Policy | string")] policy: JsValue,
) -> Result<JsValue, JsError> {
    with_policy(&policy, |input| from_json(validate_policy_json(input)))
}

/// Reads a policy file's text as the CLI's `--policy` does: cleanreg's TOML
/// or JSON, or another registry's policy (GitLab, ECR, Harbor, zot, `acr
/// purge`) told from the content or named by `format` (`toml`, `json`,
/// `gitlab`, `ecr`, `harbor`, `zot`, `acr`). Returns the policy and, for an
/// import, the report of how each part maps; throws naming the field.
#[wasm_bindgen(js_name = importPolicy, unchecked_return_type = "ImportedPolicy")]
pub fn import_policy(text: &str, format: Option<String>) -> Result<JsValue, JsError> {
    from_json(import_policy_json(text, format.as_deref()))
}

/// Decides every manifest of `inventory` under `policy` at `nowIso` (RFC
/// 3339), with each decision's reason and the bytes garbage collection frees.
#[wasm_bindgen(unchecked_return_type = "Plan")]
pub fn plan(
    #[wasm_bindgen(unchecked_param_type = "Inventory")] inventory: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Policy | string")] policy: JsValue,
    #[wasm_bindgen(js_name = nowIso)] now_iso: &str,
) -> Result<JsValue, JsError> {
    let inventory = stringify("inventory", &inventory)?;
    with_policy(&policy, |input| {
        from_json(plan_json(&inventory, input, now_iso))
    })
}

fn with_policy(
    policy: &JsValue,
    then: impl FnOnce(PolicyInput<'_>) -> Result<JsValue, JsError>,
) -> Result<JsValue, JsError> {
    match policy.as_string() {
        Some(text) => then(PolicyInput::Text(&text)),
        None => {
            let json = stringify("policy", policy)?;
            then(PolicyInput::Object(&json))
        }
    }
}

/// `JSON.stringify(value)`, refusing what has no JSON form.
fn stringify(what: &str, value: &JsValue) -> Result<String, JsError> {
    if value.is_undefined() || value.is_null() {
        return Err(JsError::new(&format!("{what}: missing")));
    }
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|text| text.as_string())
        .ok_or_else(|| JsError::new(&format!("{what}: not representable as JSON")))
}

fn from_json(result: Result<String, String>) -> Result<JsValue, JsError> {
    let text = result.map_err(|message| JsError::new(&message))?;
    js_sys::JSON::parse(&text).map_err(|_| JsError::new("cleanreg produced invalid JSON"))
}
