//! The latency proxy: bytes cross it intact and in order both ways, over
//! many connections at once, a close or half-close reaches the other side,
//! no round trip through it is shorter than twice its one-way delay, and a
//! new connection's first one pays the handshake's round trip too.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use cleanreg_testkit::{LatencyProxy, pseudo_random_bytes};

/// A loopback server that answers each connection with what `serve` does
/// to it, one thread per connection.
fn server(serve: fn(TcpStream)) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve(stream));
        }
    });
    addr
}

/// Sends back every byte as it comes, then closes once the client has.
fn echo(mut stream: TcpStream) {
    let mut buffer = [0; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if stream.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = stream.shutdown(Shutdown::Write);
}

/// Reads until the client half-closes, then answers with the byte count
/// and the bytes reversed, and closes.
fn reverse_after_eof(mut stream: TcpStream) {
    let mut received = Vec::new();
    if stream.read_to_end(&mut received).is_err() {
        return;
    }
    let mut answer = format!("{}\n", received.len()).into_bytes();
    answer.extend(received.iter().rev());
    let _ = stream.write_all(&answer);
    let _ = stream.shutdown(Shutdown::Write);
}

fn connect(proxy: &LatencyProxy) -> TcpStream {
    let stream = TcpStream::connect(proxy.addr()).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
}

#[test]
fn many_connections_carry_their_bytes_intact_and_in_order_both_ways() {
    let proxy = LatencyProxy::start(server(echo), Duration::from_millis(5)).unwrap();
    const CONNECTIONS: usize = 24;
    std::thread::scope(|scope| {
        for n in 0..CONNECTIONS {
            let proxy = &proxy;
            scope.spawn(move || {
                let stream = connect(proxy);
                // Different sizes, some far above one read, sent in pieces
                // while the echo comes back on another thread.
                let sent = pseudo_random_bytes(&format!("latency-{n}"), 1000 + n * 37_000);
                let mut reader = stream.try_clone().unwrap();
                let receiving = std::thread::spawn(move || {
                    let mut received = Vec::new();
                    reader.read_to_end(&mut received).unwrap();
                    received
                });
                let mut writer = stream;
                for piece in sent.chunks(1000 + n * 100) {
                    writer.write_all(piece).unwrap();
                }
                writer.shutdown(Shutdown::Write).unwrap();
                let received = receiving.join().unwrap();
                assert_eq!(received.len(), sent.len(), "connection {n}");
                assert!(received == sent, "connection {n}: the bytes differ");
            });
        }
    });
    assert_eq!(proxy.connections(), CONNECTIONS);
}

#[test]
fn a_half_close_reaches_the_server_and_its_answer_still_comes_back() {
    let proxy = LatencyProxy::start(server(reverse_after_eof), Duration::from_millis(5)).unwrap();
    let mut stream = connect(&proxy);
    stream.write_all(b"abc").unwrap();
    stream.write_all(b"def").unwrap();
    // The server answers only once it sees the end of the request.
    stream.shutdown(Shutdown::Write).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    assert_eq!(answer, b"6\nfedcba");
}

/// Reads the first bytes, answers, and closes with the rest unread (the
/// kernel then resets the connection), as a server that gives up on a
/// connection does.
fn answer_then_close(mut stream: TcpStream) {
    let mut first = [0; 1];
    if stream.read_exact(&mut first).is_err() {
        return;
    }
    let _ = stream.write_all(b"last answer");
    std::thread::sleep(Duration::from_millis(20));
}

#[test]
fn what_the_server_sent_before_it_closed_still_arrives() {
    let proxy = LatencyProxy::start(server(answer_then_close), Duration::from_millis(50)).unwrap();
    let stream = connect(&proxy);
    // More than the server reads: the proxy's writes to it fail once it
    // is gone, while its answer is still on the way back.
    let mut writer = stream.try_clone().unwrap();
    let sending = std::thread::spawn(move || {
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..64 {
            if writer.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    let mut answer = Vec::new();
    let mut reader = stream;
    // The answer, then the end of the stream (or a reset after it).
    let mut buffer = [0; 1024];
    while let Ok(n) = reader.read(&mut buffer) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buffer[..n]);
    }
    assert_eq!(String::from_utf8_lossy(&answer), "last answer");
    sending.join().unwrap();
}

#[test]
fn no_round_trip_is_shorter_than_twice_the_one_way_delay() {
    let one_way = Duration::from_millis(15);
    let proxy = LatencyProxy::start(server(echo), one_way).unwrap();
    assert_eq!(proxy.one_way_delay(), one_way);
    let mut stream = connect(&proxy);
    for round in 0..10u8 {
        let started = Instant::now();
        stream.write_all(&[round]).unwrap();
        let mut byte = [0];
        stream.read_exact(&mut byte).unwrap();
        let took = started.elapsed();
        assert_eq!(byte, [round]);
        // Each direction holds every byte for the delay, measured from the
        // moment it was read, which is after it was written.
        assert!(took >= 2 * one_way, "round {round} took {took:?}");
    }
    // A new connection's first bytes also wait for the handshake's round
    // trip, counted from the connect.
    let started = Instant::now();
    let mut fresh = connect(&proxy);
    fresh.write_all(b"x").unwrap();
    fresh.read_exact(&mut [0]).unwrap();
    let took = started.elapsed();
    assert!(
        took >= 4 * one_way,
        "a fresh connection's first round trip took {took:?}"
    );
}

#[test]
fn dropping_the_proxy_closes_its_connections_and_stops_listening() {
    let proxy = LatencyProxy::start(server(echo), Duration::from_millis(1)).unwrap();
    let addr = proxy.addr();
    let mut stream = connect(&proxy);
    stream.write_all(b"ping").unwrap();
    let mut four = [0; 4];
    stream.read_exact(&mut four).unwrap();
    assert_eq!(&four, b"ping");
    drop(proxy);
    let mut rest = Vec::new();
    // Closed: the end of the stream (or a reset), never a hang.
    let _ = stream.read_to_end(&mut rest);
    assert!(rest.is_empty());
    assert!(
        TcpStream::connect(addr).is_err(),
        "still listening on {addr}"
    );
}

#[test]
fn only_loopback_upstreams_are_accepted() {
    let error = LatencyProxy::start("192.0.2.1:80".parse().unwrap(), Duration::ZERO).unwrap_err();
    assert!(error.to_string().contains("loopback"), "{error}");
    let error =
        LatencyProxy::in_front_of("http://registry.example:5000", Duration::ZERO).unwrap_err();
    assert!(error.to_string().contains("IP address"), "{error}");
}
