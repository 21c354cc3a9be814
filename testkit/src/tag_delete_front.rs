//! A front that gives a real Distribution 2.8 registry the tag delete of
//! Distribution 3: `DELETE /v2/<name>/manifests/<tag>` removes just the tag.
//!
//! Every other request goes to the registry as it came (method, target,
//! headers including `Host`, so the registry writes `Location` URLs for the
//! front, and body) and its answer comes back byte for byte, streamed. Only
//! the hop-by-hop `Connection` header is set to `close`: one request per
//! connection lets the front see every request it must answer itself.
//!
//! The tag delete follows Distribution v3.1.1: `DeleteManifest` in
//! `registry/handlers/manifests.go` (the delete switch first, then
//! `Untag`), `Untag` in `registry/storage/tagstore.go` (delete the tag's
//! directory through the storage driver) and the filesystem driver's
//! `Delete` in `registry/storage/driver/filesystem/driver.go` (a missing
//! path is `PathNotFoundError`, else `os.RemoveAll`). Authorisation and the
//! delete switch are the registry's own: the front asks it with a `DELETE`
//! of a digest no manifest has, carrying the request's `Authorization`; a
//! 401 or 403 is passed back as is, a 405 becomes v3's `UNSUPPORTED`. Then
//! `<root>/docker/registry/v2/repositories/<name>/_manifests/tags/<tag>` is
//! removed: 202 with an empty body, or 404 `MANIFEST_UNKNOWN` with the
//! driver's `Path` and `DriverName` when it does not exist. The storage
//! stays the registry's.

use std::fmt;
use std::io::{self, BufReader};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::faulty::lock;
use crate::front::{self, Acceptor, Head, json_answer, read_head};
use crate::registry::Registry;
use crate::v3_front::{Distribution3, TagPage};

/// A tag delete the front answered itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagDelete {
    pub repository: String,
    pub tag: String,
    /// 202, 404, or the registry's 401/403/405 answer's status.
    pub status: u16,
}

pub(crate) struct Shared {
    /// `127.0.0.1:<port>` of the registry.
    pub(crate) upstream: String,
    pub(crate) storage_root: PathBuf,
    handled: Mutex<Vec<TagDelete>>,
    /// Distribution 3's other answers, when started as its front.
    distribution3: Option<Distribution3>,
    /// Tag list pages the front answered (Distribution 3 only), in order.
    pub(crate) tag_pages: Mutex<Vec<TagPage>>,
}

/// A running front on a free loopback port; dropping it stops accepting.
pub struct TagDeleteFront {
    shared: Arc<Shared>,
    acceptor: Acceptor,
}

impl fmt::Debug for TagDeleteFront {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TagDeleteFront")
            .field("port", &self.acceptor.port())
            .field("upstream", &self.shared.upstream)
            .finish_non_exhaustive()
    }
}

/// The digest the front deletes to ask the registry whether a delete
/// would be allowed: no manifest has it.
const PROBE_DIGEST: &str =
    "sha256:0000000000000000000000000000000000000000000000000000000000000000";

impl TagDeleteFront {
    /// Starts a front for `registry`, which must serve plain HTTP.
    pub fn start(registry: &Registry) -> io::Result<TagDeleteFront> {
        TagDeleteFront::start_with(registry, None)
    }

    /// Starts a front that answers as Distribution 3 does: the tag delete,
    /// and also schema1 refused and paginated tag lists (see
    /// [`crate::v3_front`]).
    pub fn start_distribution3(
        registry: &Registry,
        options: Distribution3,
    ) -> io::Result<TagDeleteFront> {
        TagDeleteFront::start_with(registry, Some(options))
    }

    fn start_with(
        registry: &Registry,
        distribution3: Option<Distribution3>,
    ) -> io::Result<TagDeleteFront> {
        let shared = Arc::new(Shared {
            upstream: front::plain_upstream(registry, "tag delete front")?,
            storage_root: registry.storage_root().to_path_buf(),
            handled: Mutex::new(Vec::new()),
            distribution3,
            tag_pages: Mutex::new(Vec::new()),
        });
        let serving = Arc::clone(&shared);
        let acceptor = Acceptor::start("tag-delete-front", move |client| serving.serve(client))?;
        Ok(TagDeleteFront { shared, acceptor })
    }

    /// Base URL without trailing slash, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        self.acceptor.url()
    }

    /// The tag deletes the front answered itself, in order.
    pub fn tag_deletes(&self) -> Vec<TagDelete> {
        lock(&self.shared.handled).clone()
    }

    /// The tag list pages the front answered itself, in order (only when
    /// started with [`TagDeleteFront::start_distribution3`]).
    pub fn tag_pages(&self) -> Vec<TagPage> {
        lock(&self.shared.tag_pages).clone()
    }
}

/// `(name, tag)` of `DELETE /v2/<name>/manifests/<tag>`, when the
/// reference is a tag (not `algorithm:hex`) and both are well formed.
fn tag_delete_target(head: &Head) -> Option<(String, String)> {
    if head.method != "DELETE" {
        return None;
    }
    let (name, reference) = head
        .path()
        .strip_prefix("/v2/")?
        .rsplit_once("/manifests/")?;
    let component_ok = |part: &str| {
        !part.is_empty()
            && part != "."
            && part != ".."
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
    };
    let tag_ok = reference.len() <= 128
        && reference
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && reference
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    (name.split('/').all(component_ok) && tag_ok).then(|| (name.to_owned(), reference.to_owned()))
}

impl Shared {
    fn serve(&self, client: TcpStream) -> io::Result<()> {
        let mut reader = BufReader::new(client.try_clone()?);
        let Some(head) = read_head(&mut reader)? else {
            return Ok(());
        };
        if let Some((name, tag)) = tag_delete_target(&head) {
            let answer = self.delete_tag(&head, &name, &tag)?;
            return front::answer_whole(client, &answer);
        }
        if let Some(options) = &self.distribution3
            && let Some(answer) = crate::v3_front::answer(self, options, &head, &mut reader)?
        {
            return front::answer_whole(client, &answer);
        }
        front::pass_through(&self.upstream, &head, reader, client)
    }

    /// Distribution 3's answer to a tag delete (see the module documentation).
    fn delete_tag(&self, head: &Head, name: &str, tag: &str) -> io::Result<Vec<u8>> {
        let (status, answer) = front::ask(
            &self.upstream,
            head,
            "DELETE",
            &format!("/v2/{name}/manifests/{PROBE_DIGEST}"),
        )?;
        let (status, answer) = match status {
            401 | 403 => (status, answer),
            405 => (
                405,
                json_answer(
                    405,
                    "Method Not Allowed",
                    r#"{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}"#,
                ),
            ),
            _ => {
                let relative =
                    format!("/docker/registry/v2/repositories/{name}/_manifests/tags/{tag}");
                let path = self.storage_root.join(&relative[1..]);
                match std::fs::symlink_metadata(&path) {
                    Ok(_) => {
                        std::fs::remove_dir_all(&path)?;
                        (
                            202,
                            b"HTTP/1.1 202 Accepted\r\nDocker-Distribution-Api-Version: \
                              registry/2.0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                                .to_vec(),
                        )
                    }
                    Err(error) if error.kind() == io::ErrorKind::NotFound => (
                        404,
                        // The name and tag hold no character JSON escapes.
                        json_answer(
                            404,
                            "Not Found",
                            &format!(
                                r#"{{"errors":[{{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{{"Path":"{relative}","DriverName":"filesystem"}}}}]}}"#
                            ),
                        ),
                    ),
                    Err(error) => return Err(error),
                }
            }
        };
        lock(&self.handled).push(TagDelete {
            repository: name.to_owned(),
            tag: tag.to_owned(),
            status,
        });
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(method: &str, target: &str) -> Head {
        Head {
            method: method.into(),
            target: target.into(),
            version: "HTTP/1.1".into(),
            headers: vec![("Host".into(), "127.0.0.1:1".into())],
        }
    }

    #[test]
    fn only_a_delete_by_tag_is_answered_by_the_front() {
        assert_eq!(
            tag_delete_target(&head("DELETE", "/v2/team/app/manifests/v1.2")),
            Some(("team/app".into(), "v1.2".into()))
        );
        let digest = format!("/v2/app/manifests/sha256:{}", "a".repeat(64));
        for (method, target) in [
            ("DELETE", digest.as_str()),
            ("GET", "/v2/app/manifests/v1"),
            ("DELETE", "/v2/app/blobs/v1"),
            ("DELETE", "/v2/../x/manifests/v1"),
            ("DELETE", "/v2/app/manifests/.hidden"),
        ] {
            assert_eq!(tag_delete_target(&head(method, target)), None, "{target}");
        }
    }

    #[test]
    fn the_forwarded_head_keeps_host_and_closes() {
        use crate::front::status_of;
        let mut request = head("GET", "/v2/");
        request
            .headers
            .push(("Connection".into(), "keep-alive".into()));
        let text = String::from_utf8(request.forwarded()).unwrap();
        assert_eq!(
            text,
            "GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1:1\r\nConnection: close\r\n\r\n"
        );
        assert_eq!(status_of(b"HTTP/1.1 405 Method Not Allowed\r\n"), Some(405));
    }
}
