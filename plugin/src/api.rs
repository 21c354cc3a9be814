//! The plugin's four calls over JSON text, so they run and are tested
//! natively; `lib.rs` only moves values between JavaScript and these.
//!
//! Error messages are core's, the ones the CLI prints after the file name
//! (`line 3: ...`, `default.keep_newest: ...`).

use cleanreg_core::{
    Inventory, Plan, Policy, PolicyFormat, Rule, Since, parse_reposfile, plan, reposfile_policy,
};
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The original's command-line settings that fill what a repository file
/// leaves out: `-k`, `-s`, `-re`, `-i`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ReposfileOptions {
    /// `-k N`: images to keep where an entry gives no count.
    pub keep: Option<usize>,
    /// `-s DATE`: keep images created since then where an entry gives no date.
    pub since: Option<String>,
    /// `-re`: a `tag:` is a regular expression.
    pub regex: bool,
    /// `-i`: keep digests shared by several tags.
    pub ignore_ref_tags: bool,
}

/// A repository file (text or YAML format) as a policy (JSON).
pub fn parse_reposfile_json(text: &str, options: Option<&str>) -> Result<String, String> {
    let options: ReposfileOptions = match options {
        None => ReposfileOptions::default(),
        Some(json) => from_json("options", json)?,
    };
    let since = options
        .since
        .as_deref()
        .map(|text| text.parse::<Since>().map_err(|e| format!("since: {e}")))
        .transpose()?;
    let defaults = Rule {
        keep_newest: options.keep,
        keep_newer_than: since,
        skip_shared_digests: options.ignore_ref_tags,
        ..Rule::default()
    };
    let file = parse_reposfile(text).map_err(|e| e.to_string())?;
    // The name only prefixes messages; take it off again, as the message
    // should read like the CLI's after its file name.
    const NAME: &str = "reposfile";
    let policy = reposfile_policy(NAME, &file, &defaults, options.regex).map_err(|e| {
        e.strip_prefix(&format!("{NAME}: "))
            .map_or(e.clone(), str::to_owned)
    })?;
    Ok(policy.to_json_pretty())
}

/// A policy given as JSON, or as TOML or JSON text, checked and normalised.
pub fn validate_policy_json(policy: PolicyInput<'_>) -> Result<String, String> {
    Ok(read_policy(policy)?.to_json_pretty())
}

/// How a policy reaches the plugin.
#[derive(Debug, Clone, Copy)]
pub enum PolicyInput<'a> {
    /// A JavaScript object, as `JSON.stringify` wrote it.
    Object(&'a str),
    /// A string: a policy file's text, JSON when it starts with `{`, else TOML.
    Text(&'a str),
}

/// Reads a policy file's text as the CLI's `--policy` does (cleanreg's
/// TOML or JSON, or another registry's policy, told from the content or
/// named by `format`) and returns `{"policy": …, "report": …}`; the report
/// is `null` for cleanreg's own formats, else how each part maps.
pub fn import_policy_json(text: &str, format: Option<&str>) -> Result<String, String> {
    let (policy, report) =
        cleanreg_core::read_policy(text, "", format).map_err(|e| e.to_string())?;
    Ok(serde_json::json!({ "policy": policy, "report": report }).to_string())
}

/// A string may also be another tool's policy (GitLab, ECR, Harbor, zot,
/// `acr purge`), read as the CLI's `--policy` reads it.
fn read_policy(policy: PolicyInput<'_>) -> Result<Policy, String> {
    match policy {
        PolicyInput::Object(json) => Policy::parse(json, PolicyFormat::Json),
        PolicyInput::Text(text) => cleanreg_core::read_policy(text, "", None).map(|(p, _)| p),
    }
    .map_err(|e| e.to_string())
}

/// Plans `inventory` (JSON) under `policy` at `now` (RFC 3339). The plan
/// JSON is core's `Plan` with `totals` added, and each entry's `reason`: the
/// sentence the CLI prints for it.
pub fn plan_json(inventory: &str, policy: PolicyInput<'_>, now: &str) -> Result<String, String> {
    let inventory: Inventory = from_json("inventory", inventory)?;
    let policy = read_policy(policy)?;
    let now = OffsetDateTime::parse(now.trim(), &Rfc3339).map_err(|e| {
        format!("now: {now:?} is not an RFC 3339 time such as 2026-11-27T08:00:00Z ({e})")
    })?;
    let plan = plan(&inventory, &policy, now);
    Ok(plan_value(&plan).to_string())
}

fn plan_value(plan: &Plan) -> Value {
    let mut value = serde_json::to_value(plan).expect("a plan is always representable in JSON");
    if let Some(entries) = value.get_mut("entries").and_then(Value::as_array_mut) {
        for (json, entry) in entries.iter_mut().zip(&plan.entries) {
            if let Some(object) = json.as_object_mut() {
                object.insert("reason".into(), Value::String(entry.decision.reason()));
            }
        }
    }
    if let Some(object) = value.as_object_mut() {
        object.insert(
            "totals".into(),
            serde_json::to_value(plan.totals()).expect("totals are plain numbers"),
        );
    }
    value
}

/// Deserialises `json`, naming the failing field under `what`.
fn from_json<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> Result<T, String> {
    let deserializer = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        // The text is JSON.stringify's, not the caller's: its line and
        // column would point nowhere useful.
        let message = e.inner().to_string();
        let message = match message.rfind(" at line ") {
            Some(at) => &message[..at],
            None => &message,
        };
        let path = e.path().to_string();
        if path == "." {
            format!("{what}: {message}")
        } else {
            format!("{what}.{path}: {message}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-11-27T08:00:00Z";

    fn inventory() -> String {
        let image = |day: u32, blob: char| {
            serde_json::json!({
                "media_type": "application/vnd.oci.image.manifest.v1+json",
                "kind": "image",
                "created": format!("2026-11-{day:02}T00:00:00Z"),
                "created_from": "config",
                "size": 1000,
                "manifest_size": 400,
                "blobs": [format!("sha256:{}", blob.to_string().repeat(64))],
            })
        };
        let digest = |c: char| format!("sha256:{}", c.to_string().repeat(64));
        serde_json::json!({
            "repositories": {
                "team/app": {
                    "tags": { "v1": digest('1'), "v2": digest('2'), "v3": digest('3'), "latest": digest('3') },
                    "images": { digest('1'): image(1, 'a'), digest('2'): image(2, 'b'), digest('3'): image(3, 'c') },
                }
            },
            "blobs": { digest('a'): 100, digest('b'): 200, digest('c'): 300 },
            "whole_registry": true,
        })
        .to_string()
    }

    #[test]
    fn plan_keeps_the_newest_and_says_why() {
        let plan: Value = serde_json::from_str(
            &plan_json(
                &inventory(),
                PolicyInput::Object(r#"{"default":{"keep_newest":1}}"#),
                NOW,
            )
            .unwrap(),
        )
        .unwrap();
        let entries = plan["entries"].as_array().unwrap();
        let decisions: Vec<(&str, &str)> = entries
            .iter()
            .map(|e| {
                (
                    e["digest"].as_str().unwrap(),
                    e["decision"]["decision"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            decisions,
            [
                (format!("sha256:{}", "3".repeat(64)).as_str(), "keep"),
                (format!("sha256:{}", "2".repeat(64)).as_str(), "delete"),
                (format!("sha256:{}", "1".repeat(64)).as_str(), "delete"),
            ]
        );
        assert!(
            entries[1]["reason"].as_str().unwrap().contains("newest"),
            "{}",
            entries[1]["reason"]
        );
        assert_eq!(plan["totals"]["deleted_images"], 2);
        // Blobs a and b plus the two manifests' own bytes.
        assert_eq!(plan["reclaimable"]["bytes"], 100 + 200 + 400 + 400);
        assert_eq!(plan["reclaimable"]["whole_registry"], true);
    }

    #[test]
    fn untagged_manifests_and_tag_removals_come_with_their_reasons() {
        let mut inventory: Value = serde_json::from_str(&inventory()).unwrap();
        let digest = |c: char| format!("sha256:{}", c.to_string().repeat(64));
        let app = &mut inventory["repositories"]["team/app"];
        app["tags"]["pr-7"] = Value::String(digest('3'));
        app["images"][digest('4')] = app["images"][digest('1')].clone();
        app["untagged"] = serde_json::json!({
            digest('4'): {"found": ["history"], "last_tags": ["main"]}
        });
        let plan: Value = serde_json::from_str(
            &plan_json(
                &inventory.to_string(),
                PolicyInput::Text(
                    "[default]\nkeep_newest = 5\ndelete_untagged = true\nremove_tags = 'pr-.*'\n",
                ),
                NOW,
            )
            .unwrap(),
        )
        .unwrap();
        let entries = plan["entries"].as_array().unwrap();
        let untag = entries
            .iter()
            .find(|e| e["decision"]["decision"] == "untag")
            .unwrap();
        assert_eq!(untag["tags"], serde_json::json!(["pr-7"]));
        assert_eq!(untag["role"]["role"], "tag");
        assert_eq!(untag["reason"], "matches remove_tags pr-.*");
        let untagged = entries
            .iter()
            .find(|e| e["role"]["role"] == "untagged")
            .unwrap();
        assert_eq!(untagged["digest"], digest('4'));
        assert_eq!(untagged["role"]["found"], serde_json::json!(["history"]));
        assert_eq!(untagged["decision"]["decision"], "delete");
        assert_eq!(
            untagged["reason"],
            "no tag points at it, and its rule deletes untagged manifests"
        );
        assert_eq!(plan["totals"]["removed_tags"], 1);
        assert_eq!(plan["totals"]["deleted_untagged"], 1);
    }

    #[test]
    fn a_policy_as_toml_text_plans_the_same_as_the_object() {
        let object = plan_json(
            &inventory(),
            PolicyInput::Object(r#"{"default":{"keep_newest":2}}"#),
            NOW,
        );
        let toml = plan_json(
            &inventory(),
            PolicyInput::Text("[default]\nkeep_newest = 2\n"),
            NOW,
        );
        assert_eq!(object.unwrap(), toml.unwrap());
    }

    #[test]
    fn errors_name_the_field_or_line() {
        let error = validate_policy_json(PolicyInput::Object(r#"{"default":{"keep_newest":-1}}"#))
            .unwrap_err();
        assert!(error.starts_with("default.keep_newest: "), "{error}");
        let error =
            validate_policy_json(PolicyInput::Text("[default]\nkeep_newst = 2\n")).unwrap_err();
        assert!(error.contains("line 2"), "{error}");
        // Another registry's policy is imported, with its report.
        let imported: serde_json::Value = serde_json::from_str(
            &import_policy_json(r#"{"rules": [{"rulePriority": 1, "selection": {"tagStatus": "any",
                "countType": "imageCountMoreThan", "countNumber": 4}, "action": {"type": "expire"}}]}"#, None)
            .unwrap(),
        )
        .unwrap();
        assert_eq!(imported["policy"]["default"]["keep_newest"], 4);
        assert_eq!(imported["report"]["format"], "ecr");
        assert_eq!(imported["report"]["items"][0]["mapping"], "exact");
        let own: serde_json::Value = serde_json::from_str(
            &import_policy_json("[default]\nkeep_newest = 1\n", None).unwrap(),
        )
        .unwrap();
        assert!(own["report"].is_null());
        assert!(
            import_policy_json("{}", Some("quay"))
                .unwrap_err()
                .contains("unknown policy format")
        );
        let gitlab = validate_policy_json(PolicyInput::Text(
            r#"{"keep_n": 3, "name_regex": "dev-.*", "name_regex_keep": "dev-keep"}"#,
        ))
        .unwrap();
        let gitlab: serde_json::Value = serde_json::from_str(&gitlab).unwrap();
        assert_eq!(gitlab["default"]["keep_newest"], 3);
        assert_eq!(gitlab["default"]["exclude_tags"][1], "dev-keep");
        let error = parse_reposfile_json("team/app 3\nteam/tool three\n", None).unwrap_err();
        assert!(error.starts_with("line 2: "), "{error}");
        let error = plan_json(
            r#"{"repositories":{"Team/App":{"tags":{},"images":{}}}}"#,
            PolicyInput::Object("{}"),
            NOW,
        )
        .unwrap_err();
        assert_eq!(
            error,
            "inventory.repositories.Team/App: invalid repository name \"Team/App\": \
             expected lowercase path components like team/app"
        );
        let error = plan_json(&inventory(), PolicyInput::Object("{}"), "yesterday").unwrap_err();
        assert!(error.starts_with("now: "), "{error}");
    }

    #[test]
    fn both_reposfile_formats_become_policies() {
        let text: Value =
            serde_json::from_str(&parse_reposfile_json("team/app 3\nteam/tool 5\n", None).unwrap())
                .unwrap();
        assert_eq!(text["repositories"]["team/app"]["keep_newest"], 3);
        assert_eq!(text["repositories"]["team/tool"]["keep_newest"], 5);
        let yaml: Value = serde_json::from_str(
            &parse_reposfile_json(
                "team/app:\n  keepimages: 2\n  tag: 'v.*'\nteam/tool: {}\n",
                Some(r#"{"regex":true,"keep":4}"#),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(yaml["repositories"]["team/app"]["keep_newest"], 2);
        assert_eq!(yaml["repositories"]["team/app"]["only_tags"], "v.*");
        assert_eq!(yaml["repositories"]["team/tool"]["keep_newest"], 4);
        let error = parse_reposfile_json("team/app 3\n", Some(r#"{"kep":1}"#)).unwrap_err();
        assert!(
            error.starts_with("options.kep: unknown field `kep`"),
            "{error}"
        );
    }

    #[test]
    fn an_inventory_from_elsewhere_with_dangling_tags_plans_without_panicking() {
        let inventory = serde_json::json!({
            "repositories": { "team/app": {
                "tags": { "v1": format!("sha256:{}", "9".repeat(64)) },
                "images": {},
            }},
        })
        .to_string();
        let plan = plan_json(
            &inventory,
            PolicyInput::Object(r#"{"default":{"keep_newest":0}}"#),
            NOW,
        )
        .unwrap();
        assert!(plan.contains("\"decision\":\"keep\""), "{plan}");
    }
}
