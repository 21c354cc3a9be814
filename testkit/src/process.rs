//! Helpers shared by the registry and nginx fixtures: finding binaries, free
//! ports, readiness polling and log tails for error messages.

use std::io;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::thread;
use std::time::{Duration, Instant};

/// Looks `name` up on PATH, then at `fallback` (cron-like PATHs lack /usr/sbin).
pub(crate) fn find_binary(name: &str, fallback: &str) -> Option<PathBuf> {
    let from_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    from_path.or_else(|| {
        let fallback = PathBuf::from(fallback);
        fallback.is_file().then_some(fallback)
    })
}

/// Runs `try_start` up to `attempts` times. Its outer error is fatal; its
/// inner error means the port was taken meanwhile, which is worth a retry.
pub fn start_with_retries<T>(
    attempts: usize,
    mut try_start: impl FnMut() -> io::Result<io::Result<T>>,
) -> io::Result<T> {
    let mut last_error = None;
    for _ in 0..attempts {
        match try_start()? {
            Ok(started) => return Ok(started),
            Err(port_taken) => last_error = Some(port_taken),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("no start attempt was made")))
}

/// Asks the kernel for a free loopback port; racy by nature, callers retry.
pub(crate) fn free_port() -> io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// The last `lines` lines of a log file, so start-up errors explain themselves.
pub(crate) fn log_tail(path: &Path, lines: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            let start = all.len().saturating_sub(lines);
            all[start..].join("\n")
        }
        Err(err) => format!("(cannot read {}: {err})", path.display()),
    }
}

/// Why a child did not become ready.
pub(crate) enum NotReady {
    /// The process ended before answering.
    Exited(std::process::ExitStatus),
    /// The deadline passed.
    TimedOut,
}

/// Polls `probe` until it returns true, the child exits or `timeout` passes.
pub(crate) fn wait_ready(
    child: &mut Child,
    timeout: Duration,
    mut probe: impl FnMut() -> bool,
) -> io::Result<Result<(), NotReady>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Err(NotReady::Exited(status)));
        }
        if probe() {
            // A process that lost the port race may still be alive for a moment.
            thread::sleep(Duration::from_millis(20));
            if let Some(status) = child.try_wait()? {
                return Ok(Err(NotReady::Exited(status)));
            }
            return Ok(Ok(()));
        }
        if Instant::now() >= deadline {
            return Ok(Err(NotReady::TimedOut));
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// A short-timeout agent for readiness probes.
pub(crate) fn probe_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(2)))
        .build()
        .into()
}

/// Status of a GET, or None when nothing answers yet.
pub(crate) fn probe_status(agent: &ureq::Agent, url: &str) -> Option<u16> {
    let mut response = agent.get(url).call().ok()?;
    let _ = response.body_mut().read_to_vec();
    Some(response.status().as_u16())
}

/// Stops a child for good; errors are ignored because this runs in Drop.
pub(crate) fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Whether this process runs as root (nginx then needs `user root;`).
pub(crate) fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

/// Quotes a string for YAML or nginx config (JSON string syntax fits both).
pub(crate) fn quote(value: &str) -> String {
    serde_json::to_string(value).expect("a string always serialises")
}
