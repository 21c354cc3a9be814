//! A loopback TCP proxy that puts a network's delay between a client and a
//! server: every byte takes a fixed one-way delay to cross, in each
//! direction, so a round trip costs twice that. The kernel's own delay
//! emulation (netem) is not available everywhere, and this needs no
//! privileges.
//!
//! The delay shifts a stream in time without limiting its throughput: per
//! direction, one thread reads whatever arrives, stamps it with the instant
//! it is due (read time + delay) and queues it; another writes each chunk
//! once its instant has passed. Many chunks are in flight at once, as on a
//! long fat link, so nothing is serialised per chunk. End of stream is
//! queued like data, so a half-close reaches the other side after the same
//! delay; a failed write stops that direction only, so what the other side
//! sent before it went still arrives. The client's
//! first bytes also wait for the handshake a real network would cost: the
//! connection is opened on loopback at once, so they go out no earlier than
//! one round trip after it was accepted, plus the one-way delay.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Bytes read at once from either side.
const CHUNK: usize = 64 * 1024;

/// Open connections by number, both sides, so dropping the proxy can close
/// them.
type Open = Mutex<BTreeMap<usize, (TcpStream, TcpStream)>>;

/// A running latency proxy on a free loopback port; dropping it stops
/// accepting and closes every connection it still carries.
pub struct LatencyProxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    one_way: Duration,
    stop: Arc<AtomicBool>,
    accepted: Arc<AtomicUsize>,
    open: Arc<Open>,
    acceptor: Option<JoinHandle<()>>,
}

impl fmt::Debug for LatencyProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LatencyProxy")
            .field("addr", &self.addr)
            .field("upstream", &self.upstream)
            .field("one_way", &self.one_way)
            .finish_non_exhaustive()
    }
}

impl LatencyProxy {
    /// Listens on a free `127.0.0.1` port and forwards each connection to
    /// `upstream` (a loopback address), delaying each direction by
    /// `one_way`.
    pub fn start(upstream: SocketAddr, one_way: Duration) -> io::Result<LatencyProxy> {
        if !upstream.ip().is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("the latency proxy forwards to loopback only, not {upstream}"),
            ));
        }
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let open: Arc<Open> = Arc::default();
        let acceptor = {
            let (stop, accepted, open) =
                (Arc::clone(&stop), Arc::clone(&accepted), Arc::clone(&open));
            std::thread::Builder::new()
                .name("latency-accept".into())
                .spawn(move || accept_loop(&listener, upstream, one_way, &stop, &accepted, &open))?
        };
        Ok(LatencyProxy {
            addr,
            upstream,
            one_way,
            stop,
            accepted,
            open,
            acceptor: Some(acceptor),
        })
    }

    /// Starts a proxy in front of the `host:port` of `url` (an `http://` or
    /// `https://` base URL on loopback, as the fixtures give them).
    pub fn in_front_of(url: &str, one_way: Duration) -> io::Result<LatencyProxy> {
        let authority = url
            .split_once("://")
            .map_or(url, |(_, rest)| rest)
            .split('/')
            .next()
            .unwrap_or_default();
        let upstream: SocketAddr = authority.parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{url:?} does not name an IP address and port"),
            )
        })?;
        LatencyProxy::start(upstream, one_way)
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The loopback port clients connect to.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `scheme://127.0.0.1:<port>`, for a client that would have used
    /// `scheme` to reach the upstream directly.
    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://{}", self.addr)
    }

    /// The delay added to each direction.
    pub fn one_way_delay(&self) -> Duration {
        self.one_way
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }
}

impl Drop for LatencyProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept; it sees `stop` and returns.
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        let open = std::mem::take(&mut *self.open.lock().unwrap_or_else(PoisonError::into_inner));
        for (client, server) in open.values() {
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
        }
    }
}

fn accept_loop(
    listener: &TcpListener,
    upstream: SocketAddr,
    one_way: Duration,
    stop: &AtomicBool,
    accepted: &AtomicUsize,
    open: &Arc<Open>,
) {
    for client in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        let number = accepted.fetch_add(1, Ordering::Relaxed);
        if let Err(error) = connect(client, upstream, one_way, number, open) {
            eprintln!("latency proxy: connection {number} to {upstream}: {error}");
        }
    }
}

/// Connects `client` to `upstream` and starts the two delayed directions.
fn connect(
    client: TcpStream,
    upstream: SocketAddr,
    one_way: Duration,
    number: usize,
    open: &Arc<Open>,
) -> io::Result<()> {
    let server = match TcpStream::connect(upstream) {
        Ok(server) => server,
        Err(error) => {
            let _ = client.shutdown(Shutdown::Both);
            return Err(error);
        }
    };
    // Chunks go out as soon as they are due, not when Nagle allows.
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    open.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(number, (client.try_clone()?, server.try_clone()?));
    // The last of the two directions to finish forgets the connection.
    let finished = Arc::new(AtomicUsize::new(0));
    // The handshake's round trip, which loopback did not cost.
    let accepted = Instant::now();
    let handshake = [
        (&client, &server, accepted + 2 * one_way),
        (&server, &client, accepted),
    ];
    for (from, to, not_before) in handshake {
        let (from, to) = (from.try_clone()?, to.try_clone()?);
        let (finished, open) = (Arc::clone(&finished), Arc::clone(open));
        direction(from, to, one_way, not_before, move || {
            if finished.fetch_add(1, Ordering::SeqCst) == 1 {
                open.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&number);
            }
        })?;
    }
    Ok(())
}

/// One direction: a reader thread stamps what `from` sends and queues it,
/// a writer thread sends each chunk to `to` once it is due: `one_way` after
/// it was read, or after `not_before` if that is later. `None` in the queue
/// is the end of `from`'s stream, passed on as a half-close.
fn direction(
    from: TcpStream,
    mut to: TcpStream,
    one_way: Duration,
    not_before: Instant,
    done: impl FnOnce() + Send + 'static,
) -> io::Result<()> {
    let (queue, due) = mpsc::channel::<(Instant, Option<Vec<u8>>)>();
    let reader_from = from.try_clone()?;
    std::thread::Builder::new()
        .name("latency-read".into())
        .spawn(move || {
            let mut from = reader_from;
            let mut buffer = vec![0; CHUNK];
            loop {
                let read = from.read(&mut buffer);
                let stamp = Instant::now().max(not_before) + one_way;
                match read {
                    Ok(0) | Err(_) => {
                        let _ = queue.send((stamp, None));
                        return;
                    }
                    Ok(n) => {
                        if queue.send((stamp, Some(buffer[..n].to_vec()))).is_err() {
                            return;
                        }
                    }
                }
            }
        })?;
    std::thread::Builder::new()
        .name("latency-write".into())
        .spawn(move || {
            for (at, chunk) in due {
                sleep_until(at);
                match chunk {
                    Some(bytes) => {
                        if to.write_all(&bytes).is_err() {
                            // The receiver is gone: stop reading what was
                            // meant for it. The other direction goes on, so
                            // what the receiver sent before it went (an
                            // HTTP/2 GOAWAY, the last answers) still arrives
                            // after its delay, then the end of the stream.
                            let _ = from.shutdown(Shutdown::Read);
                            break;
                        }
                    }
                    None => {
                        let _ = to.shutdown(Shutdown::Write);
                        break;
                    }
                }
            }
            done();
        })?;
    Ok(())
}

/// Sleeps until `at` (never returns earlier).
fn sleep_until(at: Instant) {
    loop {
        let now = Instant::now();
        if now >= at {
            return;
        }
        std::thread::sleep(at - now);
    }
}
