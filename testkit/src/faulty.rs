//! A deliberately faulty HTTP/1.1 server for error-path tests: every answer
//! comes from a handler that can also cut a body short, stall, or drop the
//! connection, which a real registry never does on request.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// A request as the server read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    /// e.g. `GET`.
    pub method: String,
    /// The request target as sent, e.g. `/v2/_catalog?n=10`.
    pub path_and_query: String,
    /// Header lines in the order received, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body (Content-Length or chunked), empty when there was none.
    pub body: Vec<u8>,
}

impl SeenRequest {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The target without its query string.
    pub fn path(&self) -> &str {
        self.path_and_query
            .split_once('?')
            .map_or(self.path_and_query.as_str(), |(path, _)| path)
    }

    /// The query string without `?`, if any.
    pub fn query(&self) -> Option<&str> {
        self.path_and_query.split_once('?').map(|(_, query)| query)
    }

    /// Query parameters, percent-decoded (`+` is a space), in order; a name
    /// may repeat.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.query()
            .unwrap_or("")
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (form_decode(name), form_decode(value))
            })
            .collect()
    }
}

/// Decodes `application/x-www-form-urlencoded` text; bad escapes stay as is.
pub(crate) fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (bytes[i], escaped) {
            (_, Some(byte)) => {
                out.push(byte);
                i += 3;
                continue;
            }
            (b'+', None) => out.push(b' '),
            (byte, None) => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// How a reply ends the connection instead of answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Abort {
    /// TCP reset (SO_LINGER 0): the client sees "connection reset".
    Reset,
    /// Orderly close: the client sees the connection end with no answer.
    Close,
}

/// What the server answers; build with [`Reply::new`] and the methods below.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    truncate_at: Option<usize>,
    delay: Duration,
    abort: Option<Abort>,
}

impl Default for Reply {
    /// `200 OK` with an empty body.
    fn default() -> Self {
        Reply::new(200)
    }
}

impl Reply {
    /// A reply with this status and an empty body.
    pub fn new(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            truncate_at: None,
            delay: Duration::ZERO,
            abort: None,
        }
    }

    /// A reply with a JSON body and `Content-Type: application/json`.
    pub fn json(status: u16, body: &serde_json::Value) -> Reply {
        Reply::new(status)
            .header("Content-Type", "application/json")
            .body(body.to_string())
    }

    /// Closes the connection abruptly (TCP reset) without answering.
    pub fn reset() -> Reply {
        Reply {
            abort: Some(Abort::Reset),
            ..Reply::new(0)
        }
    }

    /// Closes the connection in order (FIN) without answering.
    pub fn close() -> Reply {
        Reply {
            abort: Some(Abort::Close),
            ..Reply::new(0)
        }
    }

    /// The status this reply answers with (0 for a reset or close).
    pub fn status_code(&self) -> u16 {
        self.status
    }

    /// Replaces the status.
    pub fn status(mut self, status: u16) -> Reply {
        self.status = status;
        self
    }

    /// Adds a header line (repeat for repeated headers). `Content-Length` and
    /// `Connection` given here replace the ones the server would add.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The value of a header set on this reply, if any.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Replaces every header of this name with one of this value.
    pub fn replace_header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.header(name, value)
    }

    /// The body's length in bytes.
    pub fn body_len(&self) -> usize {
        self.body.len()
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Reply {
        self.body = body.into();
        self
    }

    /// Announces the full `Content-Length` but sends only the first `n` body
    /// bytes, then closes the connection.
    pub fn truncate_body_at(mut self, n: usize) -> Reply {
        self.truncate_at = Some(n);
        self
    }

    /// Waits this long before answering (or before a reset or close).
    pub fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

type Handler = dyn Fn(&SeenRequest) -> Reply + Send + Sync + 'static;

struct Shared {
    handler: Box<Handler>,
    requests: Mutex<Vec<SeenRequest>>,
    stopping: AtomicBool,
}

/// A running faulty server on a free loopback port; dropping it stops
/// accepting (connections already open finish on their own).
pub struct FaultyServer {
    port: u16,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl fmt::Debug for FaultyServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultyServer")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// Longest request head accepted; longer ones get 431.
const MAX_HEAD: usize = 64 * 1024;
/// How long a connection may stay silent while the server reads or writes.
const IO_TIMEOUT: Duration = Duration::from_secs(30);

impl FaultyServer {
    /// Listens on `127.0.0.1:0` and answers each request with `handler`.
    pub fn start(
        handler: impl Fn(&SeenRequest) -> Reply + Send + Sync + 'static,
    ) -> io::Result<FaultyServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            handler: Box::new(handler),
            requests: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name(format!("faulty-server-{port}"))
                .spawn(move || accept_loop(&listener, &shared))?
        };
        Ok(FaultyServer {
            port,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// Base URL without trailing slash, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The loopback port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every request read so far, in arrival order (including the ones
    /// answered with a fault).
    pub fn requests(&self) -> Vec<SeenRequest> {
        lock(&self.shared.requests).clone()
    }
}

impl Drop for FaultyServer {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the blocking accept so the thread sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// Locks a mutex even if a handler panicked while holding it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let shared = Arc::clone(shared);
        let _ = thread::Builder::new()
            .name("faulty-server-conn".into())
            .spawn(move || {
                let _ = serve(stream, &shared);
            });
    }
}

/// Reads one request, answers it as the handler says, closes.
fn serve(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let request = match read_request(&mut reader, &mut writer) {
        Ok(Some(request)) => request,
        // The client went away before sending a request (or the wake-up
        // connection from Drop).
        Ok(None) => return Ok(()),
        Err(RequestError::Io(err)) => return Err(err),
        Err(RequestError::Bad(status, why)) => {
            let reply = Reply::new(status).body(why);
            return write_reply(&mut writer, "GET", &reply);
        }
    };
    lock(&shared.requests).push(request.clone());
    let reply = panic::catch_unwind(AssertUnwindSafe(|| (shared.handler)(&request)))
        .unwrap_or_else(|_| Reply::new(500).body("faulty server: the handler panicked"));
    if !reply.delay.is_zero() {
        thread::sleep(reply.delay);
    }
    match reply.abort {
        Some(Abort::Reset) => {
            // SO_LINGER 0 makes close() send RST instead of FIN.
            socket2::SockRef::from(&writer).set_linger(Some(Duration::ZERO))?;
            drop(writer);
            Ok(())
        }
        Some(Abort::Close) => writer.shutdown(Shutdown::Both),
        None => write_reply(&mut writer, &request.method, &reply),
    }
}

enum RequestError {
    Io(io::Error),
    /// Answer with this status and reason, then close.
    Bad(u16, String),
}

impl From<io::Error> for RequestError {
    fn from(err: io::Error) -> Self {
        RequestError::Io(err)
    }
}

fn bad(status: u16, why: impl Into<String>) -> RequestError {
    RequestError::Bad(status, why.into())
}

/// Reads a request head and body; `Ok(None)` when the peer closed first.
fn read_request(
    reader: &mut impl BufRead,
    writer: &mut impl Write,
) -> Result<Option<SeenRequest>, RequestError> {
    let mut head_len = 0;
    let mut request_line = String::new();
    // Tolerate empty lines before the request line (RFC 9112 2.2).
    loop {
        request_line.clear();
        let read = read_line(reader, &mut request_line, &mut head_len)?;
        if read == 0 {
            return Ok(None);
        }
        if !request_line.trim().is_empty() {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad(400, "malformed request line"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(bad(505, "only HTTP/1.x is spoken here"));
    }
    let (method, target) = (method.to_owned(), target.to_owned());

    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if read_line(reader, &mut line, &mut head_len)? == 0 {
            return Err(bad(400, "connection ended inside the headers"));
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(bad(400, "malformed header line"));
        };
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let mut request = SeenRequest {
        method,
        path_and_query: target,
        headers,
        body: Vec::new(),
    };

    if request
        .header("Expect")
        .is_some_and(|expect| expect.eq_ignore_ascii_case("100-continue"))
    {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        writer.flush()?;
    }
    let chunked = request
        .header("Transfer-Encoding")
        .is_some_and(|coding| coding.to_ascii_lowercase().contains("chunked"));
    if chunked {
        request.body = read_chunked(reader)?;
    } else if let Some(length) = request.header("Content-Length") {
        let length: usize = length.parse().map_err(|_| bad(400, "bad Content-Length"))?;
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        request.body = body;
    }
    Ok(Some(request))
}

/// Reads one line, counting it against [`MAX_HEAD`].
fn read_line(
    reader: &mut impl BufRead,
    line: &mut String,
    head_len: &mut usize,
) -> Result<usize, RequestError> {
    let limit = (MAX_HEAD - *head_len) as u64 + 1;
    let read = reader.take(limit).read_line(line)?;
    *head_len += read;
    if *head_len > MAX_HEAD {
        return Err(bad(431, "request head too large"));
    }
    Ok(read)
}

fn read_chunked(reader: &mut impl BufRead) -> Result<Vec<u8>, RequestError> {
    crate::front::read_chunked(reader, usize::MAX).map_err(|error| {
        if error.kind() == io::ErrorKind::InvalidData {
            bad(400, "bad chunk size")
        } else {
            error.into()
        }
    })
}

fn write_reply(writer: &mut TcpStream, method: &str, reply: &Reply) -> io::Result<()> {
    let reason = ureq::http::StatusCode::from_u16(reply.status)
        .ok()
        .and_then(|status| status.canonical_reason())
        .unwrap_or("Unknown");
    let mut head = format!("HTTP/1.1 {} {reason}\r\n", reply.status);
    let has = |name: &str| {
        reply
            .headers
            .iter()
            .any(|(key, _)| key.eq_ignore_ascii_case(name))
    };
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !has("Content-Length") {
        head.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
    }
    if !has("Connection") {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    writer.write_all(head.as_bytes())?;
    if method != "HEAD" {
        let end = reply
            .truncate_at
            .map_or(reply.body.len(), |n| n.min(reply.body.len()));
        writer.write_all(&reply.body[..end])?;
    }
    writer.flush()?;
    writer.shutdown(Shutdown::Write)?;
    // Drain what the client may still send so closing does not turn into a
    // reset that could destroy the answer in flight.
    let _ = writer.set_read_timeout(Some(Duration::from_millis(200)));
    let _ = io::copy(writer, &mut io::sink());
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn agent(timeout: Duration) -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build()
            .into()
    }

    fn io_kind(error: &ureq::Error) -> Option<io::ErrorKind> {
        match error {
            ureq::Error::Io(err) => Some(err.kind()),
            _ => None,
        }
    }

    #[test]
    fn answers_as_told_and_records_the_request() {
        let server = FaultyServer::start(|request| {
            Reply::new(201)
                .header("X-Seen", request.method.as_str())
                .header("X-Seen", request.path())
                .body(format!("got {} bytes", request.body.len()))
        })
        .unwrap();
        let mut response = agent(Duration::from_secs(5))
            .put(format!(
                "{}/v2/a%2Fb/manifests/v1?x=1&y=a+b%3A",
                server.url()
            ))
            .header("Content-Type", "text/plain")
            .send("hello")
            .unwrap();
        assert_eq!(response.status(), 201);
        let seen: Vec<_> = response.headers().get_all("X-Seen").iter().collect();
        assert_eq!(seen, ["PUT", "/v2/a%2Fb/manifests/v1"]);
        assert_eq!(response.body_mut().read_to_string().unwrap(), "got 5 bytes");

        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        let request = &requests[0];
        assert_eq!(request.method, "PUT");
        assert_eq!(
            request.path_and_query,
            "/v2/a%2Fb/manifests/v1?x=1&y=a+b%3A"
        );
        assert_eq!(request.query(), Some("x=1&y=a+b%3A"));
        assert_eq!(
            request.query_pairs(),
            [
                ("x".to_owned(), "1".to_owned()),
                ("y".to_owned(), "a b:".to_owned())
            ]
        );
        assert_eq!(request.header("content-type"), Some("text/plain"));
        assert_eq!(request.body, b"hello");
    }

    #[test]
    fn reads_a_chunked_body_and_answers_head_without_one() {
        let server =
            FaultyServer::start(|request| Reply::new(200).body(request.body.clone())).unwrap();
        let mut source: &[u8] = b"streamed without a length";
        let mut response = agent(Duration::from_secs(5))
            .post(server.url())
            .send(ureq::SendBody::from_reader(&mut source))
            .unwrap();
        assert_eq!(
            response.body_mut().read_to_vec().unwrap(),
            b"streamed without a length"
        );
        assert_eq!(
            server.requests()[0].header("Transfer-Encoding"),
            Some("chunked")
        );

        let head = agent(Duration::from_secs(5))
            .head(server.url())
            .call()
            .unwrap();
        assert_eq!(head.status(), 200);
        assert_eq!(server.requests()[1].method, "HEAD");
    }

    #[test]
    fn a_truncated_body_announces_the_full_length() {
        let server =
            FaultyServer::start(|_| Reply::new(200).body(vec![b'x'; 1000]).truncate_body_at(10))
                .unwrap();
        let mut response = agent(Duration::from_secs(5))
            .get(server.url())
            .call()
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["Content-Length"], "1000");
        let error = response.body_mut().read_to_vec().unwrap_err();
        assert_eq!(
            io_kind(&error),
            Some(io::ErrorKind::UnexpectedEof),
            "{error:?}"
        );
    }

    #[test]
    fn a_delay_holds_the_answer_back() {
        let server = FaultyServer::start(|request| {
            let millis = if request.path() == "/slow" { 2000 } else { 300 };
            Reply::new(200).delay(Duration::from_millis(millis))
        })
        .unwrap();
        let started = Instant::now();
        let response = agent(Duration::from_secs(5))
            .get(server.url())
            .call()
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(started.elapsed() >= Duration::from_millis(300));

        let started = Instant::now();
        let error = agent(Duration::from_millis(500))
            .get(format!("{}/slow", server.url()))
            .call()
            .unwrap_err();
        assert!(matches!(error, ureq::Error::Timeout(_)), "{error:?}");
        assert!(started.elapsed() < Duration::from_millis(1500));
    }

    #[test]
    fn reset_and_close_answer_nothing() {
        let server = FaultyServer::start(|request| match request.path() {
            "/reset" => Reply::reset(),
            _ => Reply::close(),
        })
        .unwrap();
        let error = agent(Duration::from_secs(5))
            .get(format!("{}/reset", server.url()))
            .call()
            .unwrap_err();
        assert_eq!(
            io_kind(&error),
            Some(io::ErrorKind::ConnectionReset),
            "{error:?}"
        );

        let error = agent(Duration::from_secs(5))
            .get(format!("{}/close", server.url()))
            .call()
            .unwrap_err();
        assert_eq!(
            io_kind(&error),
            Some(io::ErrorKind::UnexpectedEof),
            "{error:?}"
        );
        let paths: Vec<_> = server
            .requests()
            .iter()
            .map(|request| request.path().to_owned())
            .collect();
        assert_eq!(paths, ["/reset", "/close"]);
    }

    #[test]
    fn a_panicking_handler_answers_500_and_drop_stops_listening() {
        let server = FaultyServer::start(|_| panic!("handler bug")).unwrap();
        let response = agent(Duration::from_secs(5))
            .get(server.url())
            .call()
            .unwrap();
        assert_eq!(response.status(), 500);
        let port = server.port();
        drop(server);
        assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    }

    #[test]
    fn form_decoding_keeps_bad_escapes() {
        assert_eq!(form_decode("a%3Ab+c%2"), "a:b c%2");
        assert_eq!(form_decode("%+1%zz%41"), "% 1%zzA");
    }
}
