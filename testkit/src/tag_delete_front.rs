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
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::faulty::lock;
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
    stopping: AtomicBool,
    handled: Mutex<Vec<TagDelete>>,
    /// Distribution 3's other answers, when started as its front.
    distribution3: Option<Distribution3>,
    /// Tag list pages the front answered (Distribution 3 only), in order.
    pub(crate) tag_pages: Mutex<Vec<TagPage>>,
}

/// A running front on a free loopback port; dropping it stops accepting.
pub struct TagDeleteFront {
    port: u16,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl fmt::Debug for TagDeleteFront {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TagDeleteFront")
            .field("port", &self.port)
            .field("upstream", &self.shared.upstream)
            .finish_non_exhaustive()
    }
}

/// The digest the front deletes to ask the registry whether a delete
/// would be allowed: no manifest has it.
const PROBE_DIGEST: &str =
    "sha256:0000000000000000000000000000000000000000000000000000000000000000";
const IO_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_HEAD: usize = 64 * 1024;

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
        let upstream = registry
            .url()
            .strip_prefix("http://")
            .map(str::to_owned)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "the tag delete front forwards to a plain-http registry only",
                )
            })?;
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            upstream,
            storage_root: registry.storage_root().to_path_buf(),
            stopping: AtomicBool::new(false),
            handled: Mutex::new(Vec::new()),
            distribution3,
            tag_pages: Mutex::new(Vec::new()),
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name(format!("tag-delete-front-{port}"))
                .spawn(move || {
                    for stream in listener.incoming() {
                        if shared.stopping.load(Ordering::SeqCst) {
                            break;
                        }
                        let Ok(stream) = stream else { continue };
                        let shared = Arc::clone(&shared);
                        let _ = thread::Builder::new()
                            .name("tag-delete-front-conn".into())
                            .spawn(move || {
                                let _ = shared.serve(stream);
                            });
                    }
                })?
        };
        Ok(TagDeleteFront {
            port,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// Base URL without trailing slash, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
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

impl Drop for TagDeleteFront {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the blocking accept so the thread sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// A request head as read: its exact lines and the parts the front needs.
pub(crate) struct Head {
    pub(crate) method: String,
    pub(crate) target: String,
    version: String,
    /// Header lines as sent, without line ends.
    pub(crate) headers: Vec<(String, String)>,
}

impl Head {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The head to send upstream: as read, with `Connection: close`.
    pub(crate) fn forwarded(&self) -> Vec<u8> {
        let mut text = format!("{} {} {}\r\n", self.method, self.target, self.version);
        for (name, value) in &self.headers {
            let lower = name.to_ascii_lowercase();
            if lower != "connection" && lower != "keep-alive" && lower != "proxy-connection" {
                text.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        text.push_str("Connection: close\r\n\r\n");
        text.into_bytes()
    }
}

pub(crate) fn read_head(reader: &mut impl BufRead) -> io::Result<Option<Head>> {
    let mut lines = Vec::new();
    let mut total = 0;
    loop {
        let mut line = String::new();
        let read = reader.read_line(&mut line)?;
        total += read;
        if read == 0 {
            if lines.is_empty() {
                return Ok(None);
            }
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the connection ended inside a request head",
            ));
        }
        if total > MAX_HEAD {
            return Err(io::Error::other("request head too long"));
        }
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if line.is_empty() {
            if lines.is_empty() {
                continue;
            }
            break;
        }
        lines.push(line);
    }
    let mut parts = lines[0].split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(io::Error::other("malformed request line"));
    };
    let mut headers = Vec::new();
    for line in &lines[1..] {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| io::Error::other("malformed header line"))?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    Ok(Some(Head {
        method: method.to_owned(),
        target: target.to_owned(),
        version: version.to_owned(),
        headers,
    }))
}

/// `(name, tag)` of `DELETE /v2/<name>/manifests/<tag>`, when the
/// reference is a tag (not `algorithm:hex`) and both are well formed.
fn tag_delete_target(head: &Head) -> Option<(String, String)> {
    if head.method != "DELETE" {
        return None;
    }
    let path = head
        .target
        .split_once('?')
        .map_or(&*head.target, |(p, _)| p);
    let (name, reference) = path.strip_prefix("/v2/")?.rsplit_once("/manifests/")?;
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

/// An error answer; `body` is the JSON text in Distribution's field order
/// (code, message, detail), which a JSON map would sort.
pub(crate) fn json_answer(status: u16, reason: &str, body: &str) -> Vec<u8> {
    // Distribution encodes with a trailing newline (json.Encoder).
    let body = format!("{body}\n");
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n\
         Docker-Distribution-Api-Version: registry/2.0\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The status code of a raw HTTP answer.
pub(crate) fn status_of(answer: &[u8]) -> Option<u16> {
    let line_end = answer.iter().position(|&b| b == b'\n')?;
    let line = std::str::from_utf8(&answer[..line_end]).ok()?;
    line.split_whitespace().nth(1)?.parse().ok()
}

impl Shared {
    pub(crate) fn connect(&self) -> io::Result<TcpStream> {
        let upstream = TcpStream::connect(&self.upstream)?;
        upstream.set_read_timeout(Some(IO_TIMEOUT))?;
        upstream.set_write_timeout(Some(IO_TIMEOUT))?;
        Ok(upstream)
    }

    fn serve(&self, client: TcpStream) -> io::Result<()> {
        client.set_read_timeout(Some(IO_TIMEOUT))?;
        client.set_write_timeout(Some(IO_TIMEOUT))?;
        let mut reader = BufReader::new(client.try_clone()?);
        let Some(head) = read_head(&mut reader)? else {
            return Ok(());
        };
        let mut writer = client;
        if let Some((name, tag)) = tag_delete_target(&head) {
            let answer = self.delete_tag(&head, &name, &tag)?;
            writer.write_all(&answer)?;
            writer.flush()?;
            return writer.shutdown(Shutdown::Both);
        }
        if let Some(options) = &self.distribution3
            && let Some(answer) = crate::v3_front::answer(self, options, &head, &mut reader)?
        {
            writer.write_all(&answer)?;
            writer.flush()?;
            return writer.shutdown(Shutdown::Both);
        }
        let mut upstream = self.connect()?;
        upstream.write_all(&head.forwarded())?;
        // Body bytes read along with the head go first, the rest as it comes.
        upstream.write_all(reader.buffer())?;
        let consumed = reader.buffer().len();
        reader.consume(consumed);
        let mut body_to = upstream.try_clone()?;
        let mut body_from = reader.into_inner();
        let body = thread::spawn(move || {
            let _ = io::copy(&mut body_from, &mut body_to);
        });
        let copied = io::copy(&mut upstream, &mut writer);
        let _ = writer.flush();
        // The answer is complete: end both sides, which also ends the body copy.
        let _ = writer.shutdown(Shutdown::Both);
        let _ = upstream.shutdown(Shutdown::Both);
        let _ = body.join();
        copied.map(drop)
    }

    /// Distribution 3's answer to a tag delete (see the module documentation).
    fn delete_tag(&self, head: &Head, name: &str, tag: &str) -> io::Result<Vec<u8>> {
        let mut probe = format!(
            "DELETE /v2/{name}/manifests/{PROBE_DIGEST} HTTP/1.1\r\nHost: {}\r\n",
            head.header("Host").unwrap_or(&self.upstream)
        );
        if let Some(authorization) = head.header("Authorization") {
            probe.push_str(&format!("Authorization: {authorization}\r\n"));
        }
        probe.push_str("Content-Length: 0\r\nConnection: close\r\n\r\n");
        let mut upstream = self.connect()?;
        upstream.write_all(probe.as_bytes())?;
        let mut answer = Vec::new();
        upstream.read_to_end(&mut answer)?;
        let status = status_of(&answer).ok_or_else(|| {
            io::Error::other("the registry's answer to the delete probe has no status line")
        })?;
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
