//! The plan as files: the JSON `cleanreg --apply-plan` reads (core's
//! `PlanFile`) and a CSV for spreadsheets, with their file names.

use std::borrow::Cow;

use cleanreg_core::{Plan, PlanEntry, PlanFile, Role};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The CSV's columns, in order.
pub const CSV_HEADER: [&str; 11] = [
    "repository",
    "digest",
    "tags",
    "kind",
    "role",
    "created",
    "size_bytes",
    "decision",
    "reason",
    "rule",
    "detail",
];

/// Exactly the file `cleanreg --plan-out` writes and `--apply-plan` reads.
pub fn json(registry: &str, plan: &Plan) -> String {
    PlanFile::new(registry, plan.clone()).to_json_pretty()
}

/// One line per plan entry after a header line (RFC 4180: CRLF line ends,
/// a field with a comma, quote or line break in quotes, quotes doubled).
/// `tags` are space-separated; `created` is RFC 3339 or empty when unknown;
/// `rule` is the repository pattern whose rule decided, empty for the
/// default rule. Roles are `image`, `child`, `attachment`, `untagged` (no
/// tag points at it; `tags` is empty) and `tag` (one tag of a kept image:
/// `tags` holds it, `digest` is the image's, `decision` is `untag` or
/// `keep`). `detail` says, for an untagged manifest, how it was found and
/// the tags it last had (`found through history; was main`), and for a tag,
/// the tags its image keeps (`image keeps latest v1`).
pub fn csv(plan: &Plan) -> String {
    let mut out = String::with_capacity(plan.entries.len() * 200 + 100);
    push_record(&mut out, CSV_HEADER.iter().map(|s| Cow::Borrowed(*s)));
    for entry in &plan.entries {
        push_record(&mut out, record(entry).into_iter());
    }
    out
}

fn record(entry: &PlanEntry) -> [Cow<'_, str>; 11] {
    let tags: Vec<&str> = entry.tags.iter().map(|t| t.as_str()).collect();
    let role = match entry.role {
        Role::Image => "image",
        Role::Child { .. } => "child",
        Role::Attachment { .. } => "attachment",
        Role::Untagged(_) => "untagged",
        Role::Tag { .. } => "tag",
    };
    let created = entry
        .created
        .and_then(|c| c.format(&Rfc3339).ok())
        .unwrap_or_default();
    let spaced = |tags: &[cleanreg_core::Tag]| {
        tags.iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let detail = match &entry.role {
        Role::Untagged(found) if found.last_tags.is_empty() => {
            format!("found through {}", found.found_label())
        }
        Role::Untagged(found) => format!(
            "found through {}; was {}",
            found.found_label(),
            spaced(&found.last_tags)
        ),
        Role::Tag { remaining } => format!("image keeps {}", spaced(remaining)),
        _ => String::new(),
    };
    [
        Cow::Borrowed(entry.repository.as_str()),
        Cow::Owned(entry.digest.to_string()),
        Cow::Owned(tags.join(" ")),
        Cow::Borrowed(entry.kind.label()),
        Cow::Borrowed(role),
        Cow::Owned(created),
        Cow::Owned(entry.size.to_string()),
        Cow::Borrowed(entry.decision.label()),
        // A change apply will not send says so first.
        Cow::Owned(match &entry.blocked {
            Some(blocked) if entry.decision.is_change() => format!(
                "{blocked}; the policy would {}: {}",
                entry.decision.label(),
                entry.decision.reason()
            ),
            _ => entry.decision.reason(),
        }),
        Cow::Owned(
            entry
                .rule
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        ),
        Cow::Owned(detail),
    ]
}

fn push_record<'a>(out: &mut String, fields: impl Iterator<Item = Cow<'a, str>>) {
    for (at, field) in fields.enumerate() {
        if at > 0 {
            out.push(',');
        }
        out.push_str(&csv_field(&field));
    }
    out.push_str("\r\n");
}

/// A field as CSV writes it.
pub fn csv_field(text: &str) -> Cow<'_, str> {
    if text.contains([',', '"', '\r', '\n']) {
        Cow::Owned(format!("\"{}\"", text.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(text)
    }
}

/// `cleanreg-plan-<host>-<YYYYMMDD-HHMM>.<extension>`, the time being the
/// plan's (the scan's) in UTC.
pub fn file_name(registry: &str, now: OffsetDateTime, extension: &str) -> String {
    let now = now.to_offset(time::UtcOffset::UTC);
    format!(
        "cleanreg-plan-{}-{:04}{:02}{:02}-{:02}{:02}.{extension}",
        host(registry),
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute()
    )
}

/// The host of a registry URL, safe in a file name (no port, scheme or
/// path; anything but letters, digits, `.` and `-` becomes `-`).
pub fn host(registry: &str) -> String {
    let rest = registry
        .split_once("://")
        .map_or(registry, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    let safe: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let safe = safe.trim_matches('-');
    if safe.is_empty() {
        "registry".to_owned()
    } else {
        safe.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleanreg_core::{
        Decision, DeleteReason, Digest, ImageKind, KeepReason, MediaType, Reclaimable,
    };
    use time::macros::datetime;

    fn entry(tags: &[&str], decision: Decision) -> PlanEntry {
        PlanEntry {
            repository: "team/app".parse().unwrap(),
            digest: Digest::sha256_of(tags.join(" ").as_bytes()),
            tags: tags.iter().map(|t| t.parse().unwrap()).collect(),
            media_type: MediaType::parse("application/vnd.oci.image.manifest.v1+json"),
            kind: ImageKind::Image,
            role: Role::Image,
            created: Some(datetime!(2026-05-01 10:30 UTC)),
            created_from: None,
            size: 1234,
            platforms: Vec::new(),
            rule: Some("team/*".parse().unwrap()),
            decision,
            blocked: None,
        }
    }

    fn sample() -> Plan {
        Plan {
            now: datetime!(2026-06-01 9:05 UTC),
            policy: cleanreg_core::Policy::keep_newest(1),
            entries: vec![
                entry(
                    &["v2", "latest"],
                    Decision::Keep {
                        reason: KeepReason::Newest {
                            rank: 1,
                            keep: 1,
                            line: None,
                        },
                    },
                ),
                entry(
                    &["v1"],
                    Decision::Delete {
                        reason: DeleteReason::Expired {
                            rank: 2,
                            keep_newest: Some(1),
                            older_than: Vec::new(),
                            line: None,
                        },
                    },
                ),
            ],
            reclaimable: Reclaimable::default(),
        }
    }

    /// A small RFC 4180 reader, to check what the writer wrote.
    fn parse(text: &str) -> Vec<Vec<String>> {
        let mut records = Vec::new();
        let mut record = Vec::new();
        let mut field = String::new();
        let mut chars = text.chars().peekable();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                (true, '"') => quoted = false,
                (true, c) => field.push(c),
                (false, '"') if field.is_empty() => quoted = true,
                (false, ',') => record.push(std::mem::take(&mut field)),
                (false, '\r') => {
                    assert_eq!(chars.next(), Some('\n'), "CR without LF");
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                (false, c) => {
                    assert_ne!(c, '\n', "bare LF outside quotes");
                    field.push(c);
                }
            }
        }
        assert!(field.is_empty() && record.is_empty(), "the last line ends");
        records
    }

    #[test]
    fn fields_are_quoted_only_when_they_must_be() {
        assert_eq!(csv_field("plain text"), "plain text");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("cr\r"), "\"cr\r\"");
        assert_eq!(csv_field(""), "");
    }

    #[test]
    fn a_blocked_change_says_so_in_the_reason() {
        let mut entry = entry(
            &["v1"],
            Decision::Delete {
                reason: DeleteReason::UnknownAge,
            },
        );
        entry.blocked = Some(cleanreg_core::Blocked::NoDeletePermission {
            repository: entry.repository.clone(),
        });
        let record = record(&entry);
        assert_eq!(record[7], "delete");
        assert!(
            record[8].starts_with(&format!(
                "cannot delete: no delete permission in {}; the policy would delete: ",
                entry.repository
            )),
            "{}",
            record[8]
        );
    }

    #[test]
    fn the_csv_has_a_header_and_one_record_per_entry() {
        let plan = sample();
        let text = csv(&plan);
        assert!(text.starts_with(
            "repository,digest,tags,kind,role,created,size_bytes,decision,reason,rule,detail\r\n"
        ));
        let records = parse(&text);
        assert_eq!(records.len(), 3);
        assert!(records.iter().all(|r| r.len() == CSV_HEADER.len()));
        let deleted = &records[2];
        assert_eq!(deleted[0], "team/app");
        assert_eq!(deleted[1], plan.entries[1].digest.to_string());
        assert_eq!(records[1][2], "v2 latest");
        assert_eq!(
            deleted[3..8],
            ["image", "image", "2026-05-01T10:30:00Z", "1234", "delete"]
        );
        // The reason holds a comma, so it is quoted, and reads back whole.
        assert_eq!(deleted[8], plan.entries[1].decision.reason());
        assert!(deleted[8].contains(','), "{}", deleted[8]);
        assert_eq!(deleted[9], "team/*");
        assert_eq!(deleted[10], "");
    }

    #[test]
    fn untagged_manifests_and_tags_have_rows_of_their_own() {
        let mut plan = sample();
        let image = plan.entries[0].clone();
        let mut tag = image.clone();
        tag.tags = vec!["pr-7".parse().unwrap()];
        tag.role = Role::Tag {
            remaining: image.tags.clone(),
        };
        tag.decision = Decision::Untag {
            reason: cleanreg_core::UntagReason::RemoveTags {
                pattern: "pr-.*".into(),
            },
        };
        let mut untagged = plan.entries[1].clone();
        untagged.tags = Vec::new();
        untagged.role = Role::Untagged(cleanreg_core::Untagged {
            found: vec![cleanreg_core::Found::History],
            last_tags: vec!["main".parse().unwrap(), "edge".parse().unwrap()],
            ..cleanreg_core::Untagged::default()
        });
        untagged.decision = Decision::Delete {
            reason: DeleteReason::Untagged,
        };
        plan.entries = vec![image, tag, untagged];
        let records = parse(&csv(&plan));
        assert_eq!(records.len(), 4);
        let (image, tag, untagged) = (&records[1], &records[2], &records[3]);
        assert_eq!(tag[1], image[1], "a tag row carries its image's digest");
        assert_eq!(
            [&tag[2], &tag[4], &tag[7], &tag[8], &tag[10]],
            [
                "pr-7",
                "tag",
                "untag",
                "matches remove_tags pr-.*",
                "image keeps v2 latest"
            ]
        );
        assert_eq!(
            [&untagged[2], &untagged[4], &untagged[7], &untagged[10]],
            [
                "",
                "untagged",
                "delete",
                "found through history; was main edge"
            ]
        );
        // The JSON carries them as core's plan, for cleanreg --apply-plan.
        let file = PlanFile::from_json(&json("http://127.0.0.1:5000", &plan)).unwrap();
        assert_eq!(file.plan.untags().count(), 1);
        assert_eq!(file.plan.totals().deleted_untagged, 1);
        assert_eq!(file.plan, plan);
    }

    #[test]
    fn a_reason_with_quotes_and_line_breaks_survives() {
        let mut out = String::new();
        let tricky = "kept: tag \"a,b\"\nmatches\r\nrule";
        push_record(
            &mut out,
            [Cow::Borrowed("x"), Cow::Borrowed(tricky)].into_iter(),
        );
        assert_eq!(parse(&out), [vec!["x".to_owned(), tricky.to_owned()]]);
    }

    #[test]
    fn the_json_is_the_clis_plan_file() {
        let plan = sample();
        let text = json("http://127.0.0.1:5000", &plan);
        let file = PlanFile::from_json(&text).unwrap();
        assert_eq!(file.registry, "http://127.0.0.1:5000");
        assert_eq!(file.plan, plan);
    }

    #[test]
    fn file_names_carry_the_host_and_the_plan_time() {
        let at = datetime!(2026-06-01 9:05 UTC);
        assert_eq!(
            file_name("http://127.0.0.1:5000", at, "json"),
            "cleanreg-plan-127.0.0.1-20260601-0905.json"
        );
        assert_eq!(
            file_name("https://registry.example.org/mirror", at, "csv"),
            "cleanreg-plan-registry.example.org-20260601-0905.csv"
        );
        assert_eq!(host("http://[::1]:5000"), "1");
        assert_eq!(host("nonsense"), "nonsense");
        assert_eq!(host("http://:5000"), "registry");
        let offset = datetime!(2026-06-01 11:05 +2);
        assert_eq!(
            file_name("http://h", offset, "csv"),
            "cleanreg-plan-h-20260601-0905.csv"
        );
    }
}
