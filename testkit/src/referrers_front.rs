//! A front that gives a real Distribution 2.8 registry the OCI 1.1
//! referrers API, which Distribution does not serve (it answers 404), as
//! registries such as Zot, Harbor, ACR and ECR do.
//!
//! It follows the OCI distribution-spec v1.1, `spec.md`:
//! - "Pushing Manifests with Subject": a manifest `PUT` through the front
//!   whose manifest has a `subject` gets `OCI-Subject: <subject digest>` in
//!   the registry's 201 answer, and the front records the manifest as a
//!   referrer of that subject.
//! - "Listing Referrers" (end-12a, end-12b): `GET /v2/<name>/referrers/<digest>`
//!   answers 200 with `Content-Type: application/vnd.oci.image.index.v1+json`
//!   and an image index whose `manifests` are the descriptors (`mediaType`,
//!   `digest`, `size`, `artifactType`, `annotations`) of the manifests of
//!   `<name>` whose `subject` is `<digest>`. `artifactType` is the
//!   manifest's own; when it has none, an image manifest's config
//!   `mediaType`, and an index's is left out. Annotations are the
//!   manifest's. No referrers: an empty list, never a 404. An invalid
//!   `<digest>`: 400 `DIGEST_INVALID`. `?artifactType=` keeps the matching
//!   descriptors and the answer carries `OCI-Filters-Applied: artifactType`.
//!   A list longer than the front's page size comes in pages, each with a
//!   `Link: <...>; rel="next"` (RFC 5988) to the next; the next page's URL
//!   carries `n` and `last` (the last digest shown), as tag lists do.
//! - "Deleting Manifests": a `DELETE` by digest the registry answers with
//!   202 removes that manifest from every list.
//!
//! Descriptors are listed in digest order. Authorisation is the registry's:
//! before answering a referrers request the front sends the registry a
//! `HEAD` of the subject with the request's `Authorization`, and passes a
//! 401 or 403 back as it came. The storage stays the registry's: the front
//! only remembers which manifest pushed through it names which subject, so
//! a referrer pushed by digest, with no tag, is found only through the API.
//!
//! Every other request goes to the registry as it came and its answer comes
//! back byte for byte, as through [`crate::TagDeleteFront`].

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, BufRead, BufReader};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

use crate::faulty::lock;
use crate::front::{self, Acceptor, Head, json_answer, query_escape, read_head, status_of};
use crate::registry::Registry;
use crate::seeder::sha256_digest;

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// The largest manifest the front reads: what Distribution accepts.
const MAX_MANIFEST: usize = 4 * 1024 * 1024;

/// A referrers request the front answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferrersRequest {
    pub repository: String,
    pub subject: String,
    /// The request target (path and query).
    pub target: String,
    pub status: u16,
}

/// Repository → subject → referrer digest → descriptor.
type Lists = BTreeMap<String, BTreeMap<String, BTreeMap<String, Value>>>;

struct Shared {
    upstream: String,
    page_size: usize,
    lists: Mutex<Lists>,
    answered: Mutex<Vec<ReferrersRequest>>,
}

/// A running front on a free loopback port; dropping it stops accepting.
pub struct ReferrersFront {
    shared: Arc<Shared>,
    acceptor: Acceptor,
}

impl fmt::Debug for ReferrersFront {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReferrersFront")
            .field("port", &self.acceptor.port())
            .field("upstream", &self.shared.upstream)
            .field("page_size", &self.shared.page_size)
            .finish_non_exhaustive()
    }
}

impl ReferrersFront {
    /// Starts a front for `registry` (plain HTTP) that lists at most
    /// `page_size` referrers per answer (at least 1).
    pub fn start(registry: &Registry, page_size: usize) -> io::Result<ReferrersFront> {
        let shared = Arc::new(Shared {
            upstream: front::plain_upstream(registry, "referrers front")?,
            page_size: page_size.max(1),
            lists: Mutex::new(BTreeMap::new()),
            answered: Mutex::new(Vec::new()),
        });
        let serving = Arc::clone(&shared);
        let acceptor = Acceptor::start("referrers-front", move |client| serving.serve(client))?;
        Ok(ReferrersFront { shared, acceptor })
    }

    /// Base URL without trailing slash, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        self.acceptor.url()
    }

    /// The referrers requests the front answered, in order.
    pub fn referrers_requests(&self) -> Vec<ReferrersRequest> {
        lock(&self.shared.answered).clone()
    }

    /// The digests the front lists as referrers of `subject` in `repository`.
    pub fn referrers_of(&self, repository: &str, subject: &str) -> Vec<String> {
        lock(&self.shared.lists)
            .get(repository)
            .and_then(|subjects| subjects.get(subject))
            .map(|list| list.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// What the front does with a request.
enum Route {
    Referrers { name: String, subject: String },
    PutManifest { name: String },
    DeleteManifest { name: String, digest: String },
    Forward,
}

fn route(head: &Head) -> Route {
    let Some(rest) = head.path().strip_prefix("/v2/") else {
        return Route::Forward;
    };
    if head.method == "GET"
        && let Some((name, subject)) = rest.rsplit_once("/referrers/")
    {
        return Route::Referrers {
            name: name.to_owned(),
            subject: subject.to_owned(),
        };
    }
    let Some((name, reference)) = rest.rsplit_once("/manifests/") else {
        return Route::Forward;
    };
    match head.method.as_str() {
        "PUT" => Route::PutManifest {
            name: name.to_owned(),
        },
        "DELETE" if reference.starts_with("sha256:") => Route::DeleteManifest {
            name: name.to_owned(),
            digest: reference.to_owned(),
        },
        _ => Route::Forward,
    }
}

fn is_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// The descriptor the referrers API lists for a manifest, and its subject;
/// `None` when the manifest has no subject.
fn referrer_of(content_type: Option<&str>, body: &[u8]) -> Option<(String, Value)> {
    let manifest: Value = serde_json::from_slice(body).ok()?;
    let subject = manifest.get("subject")?.get("digest")?.as_str()?.to_owned();
    let media_type = manifest
        .get("mediaType")
        .and_then(Value::as_str)
        .or(content_type)
        .unwrap_or_default()
        .to_owned();
    let own_type = manifest
        .get("artifactType")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty());
    let artifact_type = match own_type {
        Some(own) => Some(own.to_owned()),
        None if media_type == OCI_INDEX => None,
        None => manifest
            .get("config")
            .and_then(|config| config.get("mediaType"))
            .and_then(Value::as_str)
            .map(str::to_owned),
    };
    let mut descriptor = Map::new();
    descriptor.insert("mediaType".into(), json!(media_type));
    descriptor.insert("digest".into(), json!(sha256_digest(body)));
    descriptor.insert("size".into(), json!(body.len()));
    if let Some(artifact_type) = artifact_type {
        descriptor.insert("artifactType".into(), json!(artifact_type));
    }
    if let Some(annotations) = manifest.get("annotations").filter(|a| a.is_object()) {
        descriptor.insert("annotations".into(), annotations.clone());
    }
    Some((subject, Value::Object(descriptor)))
}

/// A request body: `Content-Length` bytes, or a chunked body decoded.
fn read_body(reader: &mut impl BufRead, head: &Head) -> io::Result<Vec<u8>> {
    let too_long = || io::Error::other("the manifest is longer than a registry accepts");
    if head
        .header("Transfer-Encoding")
        .is_some_and(|te| te.eq_ignore_ascii_case("chunked"))
    {
        return front::read_chunked(reader, MAX_MANIFEST);
    }
    let length: usize = head
        .header("Content-Length")
        .map(|value| value.trim().parse())
        .transpose()
        .map_err(|_| io::Error::other("malformed Content-Length"))?
        .unwrap_or(0);
    if length > MAX_MANIFEST {
        return Err(too_long());
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(body)
}

/// The head to send upstream with a body of `length` bytes.
fn head_with_length(head: &Head, length: usize) -> Vec<u8> {
    let text = String::from_utf8(head.forwarded()).expect("heads are text");
    let mut lines: Vec<&str> = text.trim_end_matches("\r\n").split("\r\n").collect();
    lines.retain(|line| {
        let name = line.split(':').next().unwrap_or_default().trim();
        !name.eq_ignore_ascii_case("content-length")
            && !name.eq_ignore_ascii_case("transfer-encoding")
    });
    let mut out = lines.join("\r\n");
    out.push_str(&format!("\r\nContent-Length: {length}\r\n\r\n"));
    out.into_bytes()
}

/// `answer` with one more header line right after its status line.
fn with_header(answer: &[u8], name: &str, value: &str) -> Vec<u8> {
    let Some(line_end) = answer.iter().position(|&b| b == b'\n') else {
        return answer.to_vec();
    };
    let mut out = answer[..=line_end].to_vec();
    out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    out.extend_from_slice(&answer[line_end + 1..]);
    out
}

impl Shared {
    fn exchange(&self, head: &[u8], body: &[u8]) -> io::Result<Vec<u8>> {
        front::exchange(&self.upstream, head, body)
    }

    fn serve(&self, client: TcpStream) -> io::Result<()> {
        let mut reader = BufReader::new(client.try_clone()?);
        let Some(head) = read_head(&mut reader)? else {
            return Ok(());
        };
        let answer = match route(&head) {
            Route::Referrers { name, subject } => Some(self.referrers(&head, &name, &subject)?),
            Route::PutManifest { name } => {
                let body = read_body(&mut reader, &head)?;
                let answer = self.exchange(&head_with_length(&head, body.len()), &body)?;
                Some(self.pushed(&head, &name, &body, answer))
            }
            Route::DeleteManifest { name, digest } => {
                let answer = self.exchange(&head_with_length(&head, 0), &[])?;
                if status_of(&answer) == Some(202)
                    && let Some(subjects) = lock(&self.lists).get_mut(&name)
                {
                    for list in subjects.values_mut() {
                        list.remove(&digest);
                    }
                }
                Some(answer)
            }
            Route::Forward => None,
        };
        match answer {
            Some(answer) => front::answer_whole(client, &answer),
            None => front::pass_through(&self.upstream, &head, reader, client),
        }
    }

    /// Records a manifest the registry accepted (201) that has a subject,
    /// and says so with `OCI-Subject`.
    fn pushed(&self, head: &Head, name: &str, body: &[u8], answer: Vec<u8>) -> Vec<u8> {
        if status_of(&answer) != Some(201) {
            return answer;
        }
        let Some((subject, descriptor)) = referrer_of(head.header("Content-Type"), body) else {
            return answer;
        };
        let digest = sha256_digest(body);
        lock(&self.lists)
            .entry(name.to_owned())
            .or_default()
            .entry(subject.clone())
            .or_default()
            .insert(digest, descriptor);
        with_header(&answer, "OCI-Subject", &subject)
    }

    fn referrers(&self, head: &Head, name: &str, subject: &str) -> io::Result<Vec<u8>> {
        let (status, answer) = self.referrers_answer(head, name, subject)?;
        lock(&self.answered).push(ReferrersRequest {
            repository: name.to_owned(),
            subject: subject.to_owned(),
            target: head.target.clone(),
            status,
        });
        Ok(answer)
    }

    fn referrers_answer(
        &self,
        head: &Head,
        name: &str,
        subject: &str,
    ) -> io::Result<(u16, Vec<u8>)> {
        if !is_digest(subject) {
            return Ok((
                400,
                json_answer(
                    400,
                    "Bad Request",
                    r#"{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content"}]}"#,
                ),
            ));
        }
        // The registry's own access check, with the request's credentials.
        let (status, checked) = front::ask(
            &self.upstream,
            head,
            "HEAD",
            &format!("/v2/{name}/manifests/{subject}"),
        )?;
        if matches!(status, 401 | 403) {
            return Ok((status, checked));
        }

        let query = head.query();
        let param = |key: &str| query.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        let filter = param("artifactType");
        let last = param("last");
        let size = param("n")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n > 0)
            .map_or(self.page_size, |n| n.min(self.page_size));
        let matching: Vec<(String, Value)> = lock(&self.lists)
            .get(name)
            .and_then(|subjects| subjects.get(subject))
            .map(|list| {
                list.iter()
                    .filter(|(digest, _)| last.as_ref().is_none_or(|last| *digest > last))
                    .filter(|(_, descriptor)| {
                        filter.as_ref().is_none_or(|wanted| {
                            descriptor.get("artifactType").and_then(Value::as_str)
                                == Some(wanted.as_str())
                        })
                    })
                    .map(|(digest, descriptor)| (digest.clone(), descriptor.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let more = matching.len() > size;
        let page: Vec<Value> = matching
            .iter()
            .take(size)
            .map(|(_, descriptor)| descriptor.clone())
            .collect();
        let body = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": page,
        }))
        .expect("JSON values serialise");
        let mut text = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {OCI_INDEX}\r\n\
             Docker-Distribution-Api-Version: registry/2.0\r\nContent-Length: {}\r\n",
            body.len()
        );
        if filter.is_some() {
            text.push_str("OCI-Filters-Applied: artifactType\r\n");
        }
        if more {
            let last_shown = &matching[size - 1].0;
            let mut next = format!("/v2/{name}/referrers/{subject}?n={size}&last={last_shown}");
            if let Some(filter) = &filter {
                next.push_str(&format!("&artifactType={}", query_escape(filter)));
            }
            text.push_str(&format!("Link: <{next}>; rel=\"next\"\r\n"));
        }
        text.push_str("Connection: close\r\n\r\n");
        let mut answer = text.into_bytes();
        answer.extend_from_slice(&body);
        Ok((200, answer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_descriptor_takes_the_artifact_type_the_spec_names() {
        let subject = format!("sha256:{}", "a".repeat(64));
        let own = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/spdx+json","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{subject}","size":2}},"layers":[],"subject":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{subject}","size":1}},"annotations":{{"k":"v"}}}}"#
        );
        let (named, descriptor) = referrer_of(None, own.as_bytes()).unwrap();
        assert_eq!(named, subject);
        assert_eq!(descriptor["artifactType"], "application/spdx+json");
        assert_eq!(descriptor["annotations"]["k"], "v");
        assert_eq!(descriptor["size"], own.len());
        let config_typed = own.replace(r#""artifactType":"application/spdx+json","#, "");
        let (_, descriptor) = referrer_of(None, config_typed.as_bytes()).unwrap();
        assert_eq!(
            descriptor["artifactType"],
            "application/vnd.oci.empty.v1+json"
        );
        let index = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[],"subject":{{"mediaType":"x","digest":"{subject}","size":1}}}}"#
        );
        let (_, descriptor) = referrer_of(None, index.as_bytes()).unwrap();
        assert!(descriptor.get("artifactType").is_none());
        assert!(referrer_of(None, b"{\"schemaVersion\":2}").is_none());
    }
}
