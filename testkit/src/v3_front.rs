//! Distribution 3's answers where they differ from 2.8, given by
//! [`TagDeleteFront::start_distribution3`](crate::TagDeleteFront) over the
//! real 2.8 registry, which keeps the storage and answers everything else
//! (its tag delete is in `tag_delete_front.rs`). Each follows Distribution
//! v3.1.1:
//!
//! - **Tag lists paginate.** `GetTags` in `registry/handlers/tags.go`: no
//!   `n` lists every tag (limit -1); `n` that `strconv.Atoi` refuses, or a
//!   negative one, is 400 `PAGINATION_NUMBER_INVALID` with detail
//!   `{"n": <parsed, 0 when unparsable>}`; a larger one is clamped to
//!   `tags.maxtags` (`configuration/configuration.go`, default 1000); `n=0`
//!   answers `"tags": []`. `List` in `registry/storage/tagstore.go` walks the
//!   tags in order, takes those after `last` (`handleTag`, `lessPath` in
//!   `registry/storage/catalog.go`) up to the limit: a full page ends with
//!   a `Link` to the next (`createLinkEntry` in
//!   `registry/handlers/catalog.go`: the request's path with the query
//!   `last=<last>&n=<limit>`, `rel="next"`), anything less ends the list.
//!   So when the tag count is a multiple of the page size the last page is
//!   empty, and v3.1.1 encodes it as `"tags": null` (the `nil` slice `List`
//!   returns). The tags are the registry's own (2.8's tag list, in the
//!   byte order of v3's walk: 2.8 gives them in directory order); its 401,
//!   403 or 404 (`NAME_UNKNOWN`) is passed back as it came.
//! - **Schema1 is refused on push.** `PutManifest` in
//!   `registry/handlers/manifests.go` unmarshals through
//!   `UnmarshalManifest` (`manifests.go`), which knows only the four
//!   registered media types (Docker schema2 and manifest list, OCI manifest
//!   and index) and no default: any other `Content-Type` is 400
//!   `MANIFEST_INVALID`, `"detail": "unsupported manifest media type and no
//!   default available: <type>"` (`errcode.Errors.MarshalJSON` in
//!   `registry/api/errcode/errors.go` puts an error's text in `detail`).
//!   The registry's push permission is asked first: an upload started with
//!   the request's `Authorization` and cancelled at once.
//! - **Schema1 is refused on read.** `manifestStore.Get` in
//!   `registry/storage/manifeststore.go` reads the stored bytes and knows
//!   `schemaVersion` 2 only; anything else is the error `unrecognized
//!   manifest schema version <n>`, which `GetManifest` answers as 500
//!   `UNKNOWN` ("unknown error") with that text as `detail` (no body for a
//!   `HEAD`). The front reads the stored manifest the reference leads to
//!   (tag link, revision link, blob data) after the registry allowed the
//!   read (its tag list with the request's `Authorization`).

use std::io::{self, BufRead, Read};
use std::path::Path;

use serde_json::json;

use crate::faulty::lock;
use crate::front::{self, Head, json_answer, query_escape, query_pairs};
use crate::registry::Registry;
use crate::tag_delete_front::Shared;

/// Settings of a Distribution 3 front.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Distribution3 {
    /// `tags.maxtags`: the most tags a page holds, whatever `n` asks.
    pub max_tags: usize,
}

impl Default for Distribution3 {
    fn default() -> Self {
        Distribution3 { max_tags: 1000 }
    }
}

/// A tag list page the front answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagPage {
    pub repository: String,
    /// The request's query, as sent.
    pub query: Option<String>,
    /// The status answered.
    pub status: u16,
    /// The tags of the page (`None` for `"tags": null`).
    pub tags: Option<Vec<String>>,
    /// The `Link` header's value, if the page had one.
    pub link: Option<String>,
}

/// The four manifest types Distribution 3 registers.
const KNOWN_MANIFEST_TYPES: [&str; 4] = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
];

/// What `target` names: a repository's tag list or one of its manifests.
enum Route {
    Tags { name: String },
    Manifest { name: String, reference: String },
}

fn route(target: &str) -> Option<Route> {
    let path = target.split_once('?').map_or(target, |(p, _)| p);
    let rest = path.strip_prefix("/v2/")?;
    if let Some(name) = rest.strip_suffix("/tags/list") {
        return name_ok(name).then(|| Route::Tags { name: name.into() });
    }
    let (name, reference) = rest.rsplit_once("/manifests/")?;
    (name_ok(name) && (tag_ok(reference) || digest_ok(reference))).then(|| Route::Manifest {
        name: name.into(),
        reference: reference.into(),
    })
}

fn tag_ok(tag: &str) -> bool {
    tag.len() <= 128
        && tag
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

fn name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.split('/').all(|part| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
        })
}

fn digest_ok(reference: &str) -> bool {
    reference
        .strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The front's own answer to `head`, or `None` to pass it to the registry.
pub(crate) fn answer(
    shared: &Shared,
    options: &Distribution3,
    head: &Head,
    reader: &mut impl BufRead,
) -> io::Result<Option<Vec<u8>>> {
    match (head.method.as_str(), route(&head.target)) {
        ("GET", Some(Route::Tags { name })) => tag_list(shared, options, head, &name).map(Some),
        ("PUT", Some(Route::Manifest { name, .. })) => {
            let media_type = head
                .header("Content-Type")
                .map(|value| {
                    value
                        .split(';')
                        .next()
                        .unwrap_or_default()
                        .trim()
                        .to_ascii_lowercase()
                })
                .unwrap_or_default();
            if KNOWN_MANIFEST_TYPES.contains(&media_type.as_str()) {
                return Ok(None);
            }
            // The body is read whole before answering, as the handler does.
            let length: u64 = head
                .header("Content-Length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            io::copy(&mut reader.take(length), &mut io::sink())?;
            if let Some(refused) = push_refused(shared, head, &name)? {
                return Ok(Some(refused));
            }
            let detail =
                format!("unsupported manifest media type and no default available: {media_type}");
            let body = json!({"errors": [{
                "code": "MANIFEST_INVALID",
                "message": "manifest invalid",
                "detail": detail,
            }]});
            Ok(Some(json_answer(400, "Bad Request", &body.to_string())))
        }
        (method @ ("GET" | "HEAD"), Some(Route::Manifest { name, reference })) => {
            let Some(version) = stored_schema_version(&shared.storage_root, &name, &reference)
            else {
                return Ok(None);
            };
            if version == 2 {
                return Ok(None);
            }
            let (status, answer) = front::ask(
                &shared.upstream,
                head,
                "GET",
                &format!("/v2/{name}/tags/list"),
            )?;
            if matches!(status, 401 | 403) {
                return Ok(Some(answer));
            }
            let body = json!({"errors": [{
                "code": "UNKNOWN",
                "message": "unknown error",
                "detail": format!("unrecognized manifest schema version {version}"),
            }]});
            Ok(Some(if method == "HEAD" {
                b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n\
                  Docker-Distribution-Api-Version: registry/2.0\r\nConnection: close\r\n\r\n"
                    .to_vec()
            } else {
                json_answer(500, "Internal Server Error", &body.to_string())
            }))
        }
        _ => Ok(None),
    }
}

/// The registry's answer when it would not let this request push to
/// `name`: an upload is started with its `Authorization` and, when
/// allowed, cancelled.
fn push_refused(shared: &Shared, head: &Head, name: &str) -> io::Result<Option<Vec<u8>>> {
    let (status, answer) = front::ask(
        &shared.upstream,
        head,
        "POST",
        &format!("/v2/{name}/blobs/uploads/"),
    )?;
    if status != 202 {
        return Ok(Some(answer));
    }
    let (_, headers, _) = split(&answer);
    if let Some(location) = header(&headers, "Location") {
        let path = location
            .find("/v2/")
            .map_or(location.as_str(), |at| &location[at..]);
        front::ask(&shared.upstream, head, "DELETE", path)?;
    }
    Ok(None)
}

/// The `schemaVersion` of the manifest `reference` leads to in the
/// storage, if the storage has it and it parses.
fn stored_schema_version(root: &Path, name: &str, reference: &str) -> Option<u64> {
    let manifests = root
        .join("docker/registry/v2/repositories")
        .join(name)
        .join("_manifests");
    let digest = if digest_ok(reference) {
        reference.to_owned()
    } else {
        std::fs::read_to_string(manifests.join("tags").join(reference).join("current/link")).ok()?
    };
    let hex = digest.trim().strip_prefix("sha256:")?;
    if hex.len() != 64
        || !manifests
            .join("revisions/sha256")
            .join(hex)
            .join("link")
            .is_file()
    {
        return None;
    }
    let data = root
        .join("docker/registry/v2/blobs/sha256")
        .join(&hex[..2])
        .join(hex)
        .join("data");
    let bytes = std::fs::read(data).ok()?;
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()?
        .get("schemaVersion")?
        .as_u64()
}

/// Head lines (after the status line) and body of a raw answer.
fn split(answer: &[u8]) -> (String, Vec<(String, String)>, &[u8]) {
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(answer.len(), |at| at + 4);
    let text = String::from_utf8_lossy(&answer[..end]).into_owned();
    let mut lines = text.lines();
    let status = lines.next().unwrap_or_default().to_owned();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    (status, headers, &answer[end.min(answer.len())..])
}

fn header(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.clone())
}

/// `GET /v2/<name>/tags/list` as v3.1.1 answers it.
fn tag_list(
    shared: &Shared,
    options: &Distribution3,
    head: &Head,
    name: &str,
) -> io::Result<Vec<u8>> {
    let (path, query) = match head.target.split_once('?') {
        Some((path, query)) => (path, Some(query.to_owned())),
        None => (head.target.as_str(), None),
    };
    let record = |status: u16, tags: Option<Vec<String>>, link: Option<String>| {
        lock(&shared.tag_pages).push(TagPage {
            repository: name.to_owned(),
            query: query.clone(),
            status,
            tags,
            link,
        });
    };
    let (status, answer) = front::ask(
        &shared.upstream,
        head,
        "GET",
        &format!("/v2/{name}/tags/list"),
    )?;
    if status != 200 {
        record(status, None, None);
        return Ok(answer);
    }
    let (_, _, body) = split(&answer);
    let mut all: Vec<String> = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("tags").cloned())
        .and_then(|tags| serde_json::from_value::<Option<Vec<String>>>(tags).ok())
        .flatten()
        .unwrap_or_default();
    // 2.8 lists them in directory order; v3's walk goes in byte order.
    all.sort_unstable();
    let page = match tags_page(path, query.as_deref(), &all, options.max_tags) {
        Ok(page) => page,
        Err(parsed) => {
            record(400, None, None);
            let body = json!({"errors": [{
                "code": "PAGINATION_NUMBER_INVALID",
                "message": "invalid number of results requested",
                "detail": {"n": parsed},
            }]});
            return Ok(json_answer(400, "Bad Request", &body.to_string()));
        }
    };
    let body = format!("{}\n", json!({"name": name, "tags": page.tags}));
    let mut text = String::from(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
         Docker-Distribution-Api-Version: registry/2.0\r\n",
    );
    if let Some(link) = &page.link {
        text.push_str(&format!("Link: {link}\r\n"));
    }
    text.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    record(200, page.tags, page.link);
    Ok(text.into_bytes())
}

/// One page of the tag list.
#[derive(Debug, PartialEq, Eq)]
struct Page {
    /// `None` is v3.1.1's `null` (no tag after `last`).
    tags: Option<Vec<String>>,
    link: Option<String>,
}

/// The page `query` asks of `all` (sorted); `Err(parsed n)` for an `n`
/// v3.1.1 refuses.
fn tags_page(
    path: &str,
    query: Option<&str>,
    all: &[String],
    max_tags: usize,
) -> Result<Page, i64> {
    let pairs = query.map(query_pairs).unwrap_or_default();
    let first = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let last = first("last").unwrap_or_default();
    let mut limit: i64 = -1;
    if let Some(n) = first("n").filter(|n| !n.is_empty()) {
        let parsed = atoi(&n);
        match parsed {
            Some(value) if value >= 0 => {
                limit = if max_tags > 0 && value > max_tags as i64 {
                    max_tags as i64
                } else {
                    value
                };
            }
            _ => return Err(parsed.unwrap_or(0)),
        }
    }
    if limit == 0 {
        return Ok(Page {
            tags: Some(Vec::new()),
            link: None,
        });
    }
    let after: Vec<String> = all
        .iter()
        .filter(|tag| last.is_empty() || tag.as_bytes() > last.as_bytes())
        .cloned()
        .collect();
    let full = limit > 0 && after.len() >= limit as usize;
    let tags: Vec<String> = if limit > 0 {
        after.into_iter().take(limit as usize).collect()
    } else {
        after
    };
    let link = full.then(|| {
        format!(
            "<{path}?last={}&n={limit}>; rel=\"next\"",
            query_escape(tags.last().expect("a full page has tags"))
        )
    });
    Ok(Page {
        tags: (!tags.is_empty()).then_some(tags),
        link,
    })
}

/// Go's `strconv.Atoi`: an optional sign and decimal digits.
fn atoi(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Puts a schema1 manifest into `registry`'s storage under `tag`, as
/// Distribution 2.x left one that was pushed before schema1 was switched
/// off (blob data, revision link, tag links), and returns its digest. The
/// bytes are a signed schema1 manifest's shape (`schemaVersion` 1,
/// `fsLayers`, `history`, `signatures`); only the registry's storage
/// layout is written, nothing is asked of it.
pub fn store_schema1_manifest(registry: &Registry, name: &str, tag: &str) -> io::Result<String> {
    let manifest = json!({
        "schemaVersion": 1,
        "name": name,
        "tag": tag,
        "architecture": "amd64",
        "fsLayers": [{"blobSum": "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"}],
        "history": [{"v1Compatibility": "{\"id\":\"e45a5af57b00862e5ef5782a9925979a02ba2b12dff832fd0991335f4a11e5c5\",\"created\":\"2016-01-01T00:00:00Z\"}"}],
        "signatures": [{
            "header": {"jwk": {"crv": "P-256", "kid": "AAAA:BBBB", "kty": "EC", "x": "AA", "y": "AA"}, "alg": "ES256"},
            "signature": "AAAA",
            "protected": "eyJmb3JtYXRMZW5ndGgiOjEsImZvcm1hdFRhaWwiOiJmUSJ9"
        }]
    });
    let bytes = serde_json::to_vec_pretty(&manifest).map_err(io::Error::other)?;
    let digest = crate::seeder::sha256_digest(&bytes);
    let hex = digest.trim_start_matches("sha256:");
    let v2 = registry.storage_root().join("docker/registry/v2");
    let blob = v2.join("blobs/sha256").join(&hex[..2]).join(hex);
    std::fs::create_dir_all(&blob)?;
    std::fs::write(blob.join("data"), &bytes)?;
    let manifests = v2.join("repositories").join(name).join("_manifests");
    let write_link = |dir: std::path::PathBuf| -> io::Result<()> {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("link"), &digest)
    };
    write_link(manifests.join("revisions/sha256").join(hex))?;
    write_link(manifests.join("tags").join(tag).join("current"))?;
    write_link(
        manifests
            .join("tags")
            .join(tag)
            .join("index/sha256")
            .join(hex),
    )?;
    Ok(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn pages_follow_v3_1_1_including_the_empty_last_one() {
        let all = tags(&["a", "b", "c", "d"]);
        let path = "/v2/team/app/tags/list";
        assert_eq!(
            tags_page(path, None, &all, 1000),
            Ok(Page {
                tags: Some(all.clone()),
                link: None
            }),
            "no n: every tag, no link"
        );
        assert_eq!(
            tags_page(path, Some("n=2"), &all, 1000),
            Ok(Page {
                tags: Some(tags(&["a", "b"])),
                link: Some("</v2/team/app/tags/list?last=b&n=2>; rel=\"next\"".into())
            })
        );
        assert_eq!(
            tags_page(path, Some("last=b&n=2"), &all, 1000),
            Ok(Page {
                tags: Some(tags(&["c", "d"])),
                link: Some("</v2/team/app/tags/list?last=d&n=2>; rel=\"next\"".into())
            }),
            "a full page links on even when nothing follows"
        );
        assert_eq!(
            tags_page(path, Some("last=d&n=2"), &all, 1000),
            Ok(Page {
                tags: None,
                link: None
            }),
            "the last page is empty: null"
        );
        assert_eq!(
            tags_page(path, Some("n=3&last=a"), &all, 1000),
            Ok(Page {
                tags: Some(tags(&["b", "c", "d"])),
                link: Some("</v2/team/app/tags/list?last=d&n=3>; rel=\"next\"".into())
            })
        );
        assert_eq!(
            tags_page(path, Some("n=1000"), &all, 3),
            Ok(Page {
                tags: Some(tags(&["a", "b", "c"])),
                link: Some("</v2/team/app/tags/list?last=c&n=3>; rel=\"next\"".into())
            }),
            "n is clamped to maxtags"
        );
        assert_eq!(
            tags_page(path, Some("n=0"), &all, 1000),
            Ok(Page {
                tags: Some(Vec::new()),
                link: None
            })
        );
        assert_eq!(tags_page(path, Some("n=-2"), &all, 1000), Err(-2));
        assert_eq!(tags_page(path, Some("n=ten"), &all, 1000), Err(0));
        assert_eq!(
            tags_page(path, Some("last=b"), &all, 1000),
            Ok(Page {
                tags: Some(tags(&["c", "d"])),
                link: None
            }),
            "last alone: the rest, no link"
        );
    }

    #[test]
    fn routes_and_queries() {
        assert!(matches!(
            route("/v2/team/app/tags/list?n=2"),
            Some(Route::Tags { name }) if name == "team/app"
        ));
        let digest = format!("sha256:{}", "a".repeat(64));
        assert!(matches!(
            route(&format!("/v2/app/manifests/{digest}")),
            Some(Route::Manifest { reference, .. }) if reference == digest
        ));
        assert!(matches!(
            route("/v2/app/manifests/v1"),
            Some(Route::Manifest { .. })
        ));
        assert!(route("/v2/../x/manifests/v1").is_none());
        assert!(route("/v2/app/blobs/uploads/").is_none());
        assert_eq!(
            query_pairs("last=v%2B1&n=2&x"),
            [
                ("last".to_owned(), "v+1".to_owned()),
                ("n".to_owned(), "2".to_owned()),
                ("x".to_owned(), String::new())
            ]
        );
        assert_eq!(atoi("+7"), Some(7));
        assert_eq!(atoi("7x"), None);
    }
}
