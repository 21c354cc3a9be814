//! What every front over the real registry shares ([`crate::TagDeleteFront`]
//! with its Distribution 3 answers, [`crate::ReferrersFront`]): an accept
//! loop on a loopback port with a thread per connection, request heads,
//! short requests of its own to the registry, and a byte-for-byte pass of
//! every request the front does not answer itself.
//!
//! Each connection carries one request: the head sent upstream says
//! `Connection: close`, so the front sees every request it must answer.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::registry::Registry;

const IO_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_HEAD: usize = 64 * 1024;

/// An accept loop on a free loopback port, a thread per connection;
/// dropping it stops accepting.
pub(crate) struct Acceptor {
    port: u16,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Acceptor {
    /// Starts accepting; `serve` gets each connection with its timeouts set.
    pub(crate) fn start(
        name: &str,
        serve: impl Fn(TcpStream) -> io::Result<()> + Send + Sync + 'static,
    ) -> io::Result<Acceptor> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let stopping = Arc::new(AtomicBool::new(false));
        let serve = Arc::new(serve);
        let thread = {
            let stopping = Arc::clone(&stopping);
            let connection = format!("{name}-conn");
            thread::Builder::new()
                .name(format!("{name}-{port}"))
                .spawn(move || {
                    for stream in listener.incoming() {
                        if stopping.load(Ordering::SeqCst) {
                            break;
                        }
                        let Ok(stream) = stream else { continue };
                        let serve = Arc::clone(&serve);
                        let _ = thread::Builder::new()
                            .name(connection.clone())
                            .spawn(move || {
                                let _ = with_timeouts(&stream).and_then(|()| serve(stream));
                            });
                    }
                })?
        };
        Ok(Acceptor {
            port,
            stopping,
            thread: Some(thread),
        })
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Base URL without trailing slash, e.g. `http://127.0.0.1:41234`.
    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wake the blocking accept so the thread sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn with_timeouts(stream: &TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))
}

/// `127.0.0.1:<port>` of `registry`, which a front reaches over plain HTTP.
pub(crate) fn plain_upstream(registry: &Registry, front: &str) -> io::Result<String> {
    registry
        .url()
        .strip_prefix("http://")
        .map(str::to_owned)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("the {front} forwards to a plain-http registry only"),
            )
        })
}

/// A connection to the registry, with the fronts' timeouts.
pub(crate) fn connect(upstream: &str) -> io::Result<TcpStream> {
    let stream = TcpStream::connect(upstream)?;
    with_timeouts(&stream)?;
    Ok(stream)
}

/// Sends a whole request to the registry and reads its whole answer.
pub(crate) fn exchange(upstream: &str, head: &[u8], body: &[u8]) -> io::Result<Vec<u8>> {
    let mut stream = connect(upstream)?;
    stream.write_all(head)?;
    stream.write_all(body)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    Ok(answer)
}

/// A bodiless request of the front's own to the registry, as HTTP/1.0 (so
/// the answer is never chunked), with the client's `Host` and
/// `Authorization`, so the registry's own access rules decide: the status
/// and the raw answer.
pub(crate) fn ask(
    upstream: &str,
    head: &Head,
    method: &str,
    path: &str,
) -> io::Result<(u16, Vec<u8>)> {
    let mut request = format!(
        "{method} {path} HTTP/1.0\r\nHost: {}\r\n",
        head.header("Host").unwrap_or(upstream)
    );
    if let Some(authorization) = head.header("Authorization") {
        request.push_str(&format!("Authorization: {authorization}\r\n"));
    }
    request.push_str("Content-Length: 0\r\n\r\n");
    let answer = exchange(upstream, request.as_bytes(), &[])?;
    let status = status_of(&answer).ok_or_else(|| {
        io::Error::other(format!(
            "the registry's answer to {method} {path} has no status line"
        ))
    })?;
    Ok((status, answer))
}

/// Writes an answer the front made (or read whole) and ends the connection.
pub(crate) fn answer_whole(mut client: TcpStream, answer: &[u8]) -> io::Result<()> {
    client.write_all(answer)?;
    client.flush()?;
    client.shutdown(Shutdown::Both)
}

/// Passes the request to the registry as it came (method, target, headers
/// including `Host`, so the registry writes `Location` URLs for the front,
/// and the body as it streams in) and its answer back byte for byte.
pub(crate) fn pass_through(
    upstream: &str,
    head: &Head,
    mut reader: BufReader<TcpStream>,
    mut client: TcpStream,
) -> io::Result<()> {
    let mut registry = connect(upstream)?;
    registry.write_all(&head.forwarded())?;
    // Body bytes read along with the head go first, the rest as it comes.
    registry.write_all(reader.buffer())?;
    let consumed = reader.buffer().len();
    reader.consume(consumed);
    let mut body_to = registry.try_clone()?;
    let mut body_from = reader.into_inner();
    let body = thread::spawn(move || {
        let _ = io::copy(&mut body_from, &mut body_to);
    });
    let copied = io::copy(&mut registry, &mut client);
    let _ = client.flush();
    // The answer is complete: end both sides, which also ends the body copy.
    let _ = client.shutdown(Shutdown::Both);
    let _ = registry.shutdown(Shutdown::Both);
    let _ = body.join();
    copied.map(drop)
}

/// A request head as read: its exact lines and the parts the fronts need.
pub(crate) struct Head {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) version: String,
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

    /// The target without its query.
    pub(crate) fn path(&self) -> &str {
        self.target
            .split_once('?')
            .map_or(&*self.target, |(path, _)| path)
    }

    /// The target's query pairs, decoded (see [`query_pairs`]).
    pub(crate) fn query(&self) -> Vec<(String, String)> {
        self.target
            .split_once('?')
            .map(|(_, query)| query_pairs(query))
            .unwrap_or_default()
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

/// Reads a request head; `Ok(None)` when the peer closed before one.
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

/// A chunked request body, decoded (trailers are read and dropped). A
/// malformed chunk size is an `InvalidData` error, and so is a body longer
/// than `limit` bytes, found before it is read.
pub(crate) fn read_chunked(reader: &mut impl BufRead, limit: usize) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size_line = String::new();
        reader.read_line(&mut size_line)?;
        let size = size_line
            .trim()
            .split(';')
            .next()
            .and_then(|hex| usize::from_str_radix(hex.trim(), 16).ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
        if body.len().saturating_add(size) > limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the body is longer than {limit} bytes"),
            ));
        }
        if size == 0 {
            // Trailers end with an empty line.
            loop {
                let mut trailer = String::new();
                if reader.read_line(&mut trailer)? == 0 || trailer.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut crlf = [0; 2];
        reader.read_exact(&mut crlf)?;
    }
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

/// Go's `url.ParseQuery` pairs, as Distribution reads its queries:
/// `&`-separated, `+` a space, `%XX` decoded; a malformed pair is dropped.
pub(crate) fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((unescape(key)?, unescape(value)?))
        })
        .collect()
}

fn unescape(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = text.get(at + 1..at + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                at += 2;
            }
            byte => out.push(byte),
        }
        at += 1;
    }
    String::from_utf8(out).ok()
}

/// Go's `url.QueryEscape` for what tags, digests and media types hold:
/// letters, digits, `_`, `.`, `-` and `~` stay, every other byte is `%XX`.
pub(crate) fn query_escape(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"_.-~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode_as_go_does_and_escape_back() {
        assert_eq!(
            query_pairs("n=2&last=a%2Bb&artifactType=application%2Fvnd.x+y&bad=%zz&"),
            [
                ("n".to_owned(), "2".to_owned()),
                ("last".to_owned(), "a+b".to_owned()),
                ("artifactType".to_owned(), "application/vnd.x y".to_owned()),
            ]
        );
        assert_eq!(
            query_escape("application/vnd.x+y"),
            "application%2Fvnd.x%2By"
        );
        assert_eq!(query_escape("sha256:ab"), "sha256%3Aab");
    }

    #[test]
    fn a_head_splits_its_target() {
        let mut reader = io::Cursor::new(
            b"GET /v2/a/referrers/sha256:x?artifactType=t%2Fu HTTP/1.1\r\nHost: h\r\n\r\n".to_vec(),
        );
        let head = read_head(&mut reader).unwrap().unwrap();
        assert_eq!(head.path(), "/v2/a/referrers/sha256:x");
        assert_eq!(
            head.query(),
            [("artifactType".to_owned(), "t/u".to_owned())]
        );
        assert_eq!(head.header("host"), Some("h"));
    }
}
