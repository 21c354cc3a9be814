//! `cargo xtask bench`: how close the CLI and the dashboard come to what the
//! registry itself can answer.
//!
//! It seeds a registry with htpasswd auth, measures the registry's own
//! ceiling per request kind with a raw concurrent request loop, then times
//! the CLI's scan+plan (cold cache, then warm), its apply of keep-10 on a
//! fresh copy, and the dashboard's scan+plan and its apply of keep-10 (on
//! another fresh copy) in headless Chromium. Requests
//! are counted from the registry's access log, so every figure is what the
//! registry saw. The floor of a run is the time the registry alone needs
//! for the same requests: Σ over kinds of requests ÷ ceiling.
//!
//! Then the same scans over network paths as admins have them (see
//! [`NetPath`]): nginx in front of the same registry, over plain HTTP/1.1
//! or https (HTTP/1.1 only, or HTTP/2 offered), with a round trip added by
//! testkit's latency proxy; the CLI and the dashboard, each cold and then
//! warm (the CLI's second run with its cache, the dashboard opened again in
//! the same browser profile with its IndexedDB cache). The protocol a row
//! names is the one nginx logged for its registry requests.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use cleanreg_testkit::{
    BenchRegistry, MANIFEST_ACCEPT, Nginx, NginxOptions, Registry, RegistryOptions, Seeder,
    TestTls, bench_registry, clone_tags_on_disk,
};

use crate::run::{Result, cmd, run, target_dir};
use crate::setup;

const USER: &str = "bench";
const PASSWORD: &str = "bench-password";
const SEED_THREADS: usize = 12;
/// The policy every run plans: keep the newest 10 images per repository.
const KEEP: usize = 10;
/// The wasm target the planner benchmark runs on outside a browser.
const WASI_TARGET: &str = "wasm32-wasip1";
/// Tags per repository in the memory run (its repositories are
/// `memory_tags / MEMORY_TAGS_PER_REPOSITORY`).
const MEMORY_TAGS_PER_REPOSITORY: usize = 1000;
/// Tags per repository the memory run pushes through the API; the rest are
/// copies of those tags made on disk.
const MEMORY_API_TAGS: usize = 20;

/// What `cargo xtask bench` measures.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub repositories: usize,
    pub tags: usize,
    pub concurrency: usize,
    pub ceiling_seconds: f64,
    pub memory_tags: usize,
    pub dashboard: bool,
    /// `--no-apply` clears it: no apply runs (the CLI's and the
    /// dashboard's), for scan-only figures at large sizes.
    pub apply: bool,
    pub planner: bool,
    /// `--untagged`: measure `--delete-untagged` instead (see
    /// `bench_untagged.rs`), with `pushes` of `main` per repository.
    pub untagged: bool,
    pub pushes: usize,
    /// Whether `--repositories` was given (the untagged run has its own
    /// default).
    pub repositories_given: bool,
    /// `--paths`: the network paths measured after the loopback rows.
    pub paths: Vec<NetPath>,
    /// `--peer SCRIPT`: compare the whole keep-N run with registry-cli's
    /// (see `bench_peer.rs`), run by `--peer-python` (`python3`).
    pub peer: Option<PathBuf>,
    pub peer_python: String,
}

/// How a network path's nginx talks to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Plain http (HTTP/1.1), as the loopback rows but through nginx.
    Http1,
    /// https with HTTP/1.1 only.
    Https1,
    /// https with HTTP/2 offered (ALPN `h2`); the CLI still speaks
    /// HTTP/1.1 over it.
    Https2,
}

impl Protocol {
    fn name(self) -> &'static str {
        match self {
            Protocol::Http1 => "h1",
            Protocol::Https1 => "h1s",
            Protocol::Https2 => "h2",
        }
    }
}

/// A network path: nginx in front of the registry speaking `protocol`,
/// behind a latency proxy adding `rtt_ms` of round trip (none at 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetPath {
    pub protocol: Protocol,
    pub rtt_ms: u32,
}

impl NetPath {
    pub(crate) fn label(self) -> String {
        format!("{}-{}", self.protocol.name(), self.rtt_ms)
    }
}

/// The paths of `--paths`: `none`, or a comma-separated list of
/// `<protocol>-<round trip ms>` with protocol `h1`, `h1s` or `h2`.
pub fn parse_paths(text: &str) -> Result<Vec<NetPath>> {
    if text == "none" {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|word| {
            let bad = || {
                format!(
                    "--paths wants h1-MS, h1s-MS or h2-MS (MS the round trip in ms) or none, \
                     got {word:?}"
                )
            };
            let (protocol, rtt) = word.split_once('-').ok_or_else(bad)?;
            let protocol = match protocol {
                "h1" => Protocol::Http1,
                "h1s" => Protocol::Https1,
                "h2" => Protocol::Https2,
                _ => return Err(bad()),
            };
            let rtt_ms = rtt.parse().map_err(|_| bad())?;
            Ok(NetPath { protocol, rtt_ms })
        })
        .collect()
}

/// The network paths measured unless `--paths` says otherwise.
const DEFAULT_PATHS: &str = "h1-0,h1-20,h2-0,h2-20";

impl Options {
    fn full() -> Options {
        Options {
            repositories: 50,
            tags: 200,
            concurrency: 8,
            ceiling_seconds: 3.0,
            memory_tags: 100_000,
            dashboard: true,
            apply: true,
            planner: false,
            untagged: false,
            pushes: 10,
            repositories_given: false,
            peer: None,
            peer_python: "python3".into(),
            paths: parse_paths(DEFAULT_PATHS).expect("the default paths parse"),
        }
    }

    fn smoke() -> Options {
        Options {
            repositories: 4,
            tags: 24,
            ceiling_seconds: 1.0,
            memory_tags: 2000,
            pushes: 3,
            ..Options::full()
        }
    }
}

pub const USAGE: &str = "usage: cargo xtask bench [--smoke] [--repositories N] [--tags N] \
                         [--concurrency N] [--ceiling-seconds S] [--memory-tags N] \
                         [--no-dashboard] [--no-apply] [--planner] [--paths LIST] | --untagged [--smoke] \
                         [--repositories N] [--pushes N] | --peer SCRIPT [--peer-python PYTHON] \
                         [--smoke] [--repositories N]\n\
                         --paths: the network paths to measure, comma-separated \
                         <protocol>-<round trip ms>, protocol h1 (plain http), h1s (https, \
                         HTTP/1.1 only) or h2 (https, HTTP/2 offered); default \
                         h1-0,h1-20,h2-0,h2-20; none skips them";

pub fn options(args: &[String]) -> Result<Options> {
    let mut options = if args.iter().any(|arg| arg == "--smoke") {
        Options::smoke()
    } else {
        Options::full()
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let mut value = |name: &str| -> Result<String> {
            args.next()
                .cloned()
                .ok_or(format!("{name} wants a value\n{USAGE}"))
        };
        let number = |name: &str, text: String| -> Result<usize> {
            text.parse()
                .map_err(|_| format!("{name} wants a whole number, got {text:?}"))
        };
        match flag.as_str() {
            "--smoke" => {}
            "--repositories" => {
                options.repositories = number(flag, value(flag)?)?;
                options.repositories_given = true;
            }
            "--untagged" => options.untagged = true,
            "--pushes" => options.pushes = number(flag, value(flag)?)?.max(1),
            "--tags" => options.tags = number(flag, value(flag)?)?,
            "--concurrency" => options.concurrency = number(flag, value(flag)?)?.max(1),
            "--memory-tags" => options.memory_tags = number(flag, value(flag)?)?,
            "--ceiling-seconds" => {
                let text = value(flag)?;
                options.ceiling_seconds = text
                    .parse::<f64>()
                    .ok()
                    .filter(|seconds| *seconds > 0.0)
                    .ok_or(format!("--ceiling-seconds wants seconds, got {text:?}"))?;
            }
            "--no-dashboard" => options.dashboard = false,
            "--no-apply" => options.apply = false,
            "--paths" => options.paths = parse_paths(&value(flag)?)?,
            "--planner" => options.planner = true,
            "--peer" => options.peer = Some(PathBuf::from(value(flag)?)),
            "--peer-python" => options.peer_python = value(flag)?,
            _ => return Err(USAGE.into()),
        }
    }
    if options.repositories == 0 || options.tags == 0 {
        return Err("--repositories and --tags must be at least 1".into());
    }
    Ok(options)
}

/// A request kind as the access log shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Catalog,
    TagList,
    ManifestGet,
    ManifestHead,
    BlobGet,
    BlobHead,
    Delete,
    /// Anything else: `/v2/` pings, uploads, unknown paths.
    Other,
    /// Any request answered 401, whatever its kind.
    Unauthorized,
}

pub(crate) const KINDS: [Kind; 9] = [
    Kind::Catalog,
    Kind::TagList,
    Kind::ManifestGet,
    Kind::ManifestHead,
    Kind::BlobGet,
    Kind::BlobHead,
    Kind::Delete,
    Kind::Other,
    Kind::Unauthorized,
];

impl Kind {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::Catalog => "catalog",
            Kind::TagList => "tags",
            Kind::ManifestGet => "man.GET",
            Kind::ManifestHead => "man.HEAD",
            Kind::BlobGet => "blob.GET",
            Kind::BlobHead => "blob.HEAD",
            Kind::Delete => "DELETE",
            Kind::Other => "other",
            Kind::Unauthorized => "401",
        }
    }

    /// The measured ceiling that stands for this kind: a blob HEAD costs
    /// what a manifest HEAD does, a 401 what a ping does.
    fn ceiling_kind(self) -> Kind {
        match self {
            Kind::BlobHead => Kind::ManifestHead,
            Kind::Unauthorized => Kind::Other,
            kind => kind,
        }
    }
}

/// Requests per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requests(BTreeMap<Kind, u64>);

impl Requests {
    pub fn get(&self, kind: Kind) -> u64 {
        self.0.get(&kind).copied().unwrap_or(0)
    }

    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    pub(crate) fn add(&mut self, kind: Kind, count: u64) {
        *self.0.entry(kind).or_default() += count;
    }
}

/// The kind of one line of Distribution's access log (the combined log
/// format: `127.0.0.1 - - [date] "GET /v2/x/tags/list HTTP/1.1" 200 ...`);
/// `None` for the other lines the registry writes (its error log).
pub fn classify(line: &str) -> Option<Kind> {
    let (_, request) = line.split_once("] \"")?;
    let (request_line, after) = request.split_once('"')?;
    let mut words = request_line.split(' ');
    let (method, uri, protocol) = (words.next()?, words.next()?, words.next()?);
    if !protocol.starts_with("HTTP/") || words.next().is_some() {
        return None;
    }
    let status: u16 = after.split_whitespace().next()?.parse().ok()?;
    if status == 401 {
        return Some(Kind::Unauthorized);
    }
    let path = uri.split('?').next().unwrap_or(uri);
    let is_v2 = path.starts_with("/v2/");
    Some(match method {
        "DELETE" if is_v2 => Kind::Delete,
        "GET" if path == "/v2/_catalog" => Kind::Catalog,
        "GET" if is_v2 && path.ends_with("/tags/list") => Kind::TagList,
        "GET" if is_v2 && path.contains("/manifests/") => Kind::ManifestGet,
        "HEAD" if is_v2 && path.contains("/manifests/") => Kind::ManifestHead,
        "GET" if is_v2 && path.contains("/blobs/") && !path.contains("/blobs/uploads") => {
            Kind::BlobGet
        }
        "HEAD" if is_v2 && path.contains("/blobs/") && !path.contains("/blobs/uploads") => {
            Kind::BlobHead
        }
        _ => Kind::Other,
    })
}

/// Counts the access-log lines of `log` by kind.
pub fn count_requests(log: &str) -> Requests {
    let mut requests = Requests::default();
    for kind in log.lines().filter_map(classify) {
        *requests.0.entry(kind).or_default() += 1;
    }
    requests
}

/// The registry's log, read between two offsets.
pub(crate) struct AccessLog {
    path: PathBuf,
}

impl AccessLog {
    pub(crate) fn of(registry: &Registry) -> AccessLog {
        AccessLog {
            path: registry.log_path().to_path_buf(),
        }
    }

    pub(crate) fn len(&self) -> u64 {
        std::fs::metadata(&self.path).map_or(0, |meta| meta.len())
    }

    /// The log's length once it stopped growing (a line is written after
    /// its answer went out).
    pub(crate) fn settled_len(&self) -> u64 {
        let mut last = self.len();
        let mut still = 0;
        while still < 3 {
            std::thread::sleep(Duration::from_millis(100));
            let now = self.len();
            if now == last {
                still += 1;
            } else {
                still = 0;
                last = now;
            }
        }
        last
    }

    /// The requests logged since `from`.
    pub(crate) fn since(&self, from: u64) -> Result<Requests> {
        let to = self.settled_len();
        let mut file =
            File::open(&self.path).map_err(|e| format!("{}: {e}", self.path.display()))?;
        file.seek(SeekFrom::Start(from))
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        let mut bytes = Vec::new();
        file.take(to.saturating_sub(from))
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        Ok(count_requests(&String::from_utf8_lossy(&bytes)))
    }
}

/// Requests per second the registry answers alone, per kind.
#[derive(Debug, Default)]
pub(crate) struct Ceiling(BTreeMap<Kind, f64>);

impl Ceiling {
    fn rate(&self, kind: Kind) -> Option<f64> {
        self.0.get(&kind.ceiling_kind()).copied()
    }

    /// Seconds the registry alone needs for these requests.
    fn floor(&self, requests: &Requests) -> f64 {
        KINDS
            .iter()
            .filter_map(|kind| {
                let count = requests.get(*kind);
                (count > 0).then(|| count as f64 / self.rate(*kind).unwrap_or(f64::INFINITY))
            })
            .sum()
    }
}

fn basic_authorization() -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    format!("Basic {token}")
}

/// One raw loop's result.
struct Measured {
    requests: usize,
    seconds: f64,
    /// Answers other than the expected status, and lost requests.
    unexpected: usize,
}

/// `concurrency` threads, each with its own keep-alive agent, send
/// `method` to the URLs in turn (each once when `once`, else round and
/// round) for `duration`, with basic auth sent up front.
fn hammer(
    base: &str,
    method: &'static str,
    paths: &[String],
    once: bool,
    concurrency: usize,
    duration: Duration,
) -> Measured {
    let authorization = basic_authorization();
    let accept = MANIFEST_ACCEPT.join(", ");
    let next = AtomicUsize::new(0);
    let unexpected = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..concurrency {
            scope.spawn(|| {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(30)))
                    .build()
                    .into();
                while started.elapsed() < duration {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if once && n >= paths.len() {
                        return;
                    }
                    let url = format!("{base}{}", paths[n % paths.len()]);
                    let answer = match method {
                        "HEAD" => agent
                            .head(&url)
                            .header("Authorization", &authorization)
                            .header("Accept", &accept)
                            .call(),
                        "DELETE" => agent
                            .delete(&url)
                            .header("Authorization", &authorization)
                            .call(),
                        _ => agent
                            .get(&url)
                            .header("Authorization", &authorization)
                            .header("Accept", &accept)
                            .call(),
                    };
                    let expected = if method == "DELETE" { 202 } else { 200 };
                    let ok = answer.is_ok_and(|mut response| {
                        let read = method == "HEAD" || response.body_mut().read_to_vec().is_ok();
                        read && response.status().as_u16() == expected
                    });
                    if !ok {
                        unexpected.fetch_add(1, Ordering::Relaxed);
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    Measured {
        requests: done.into_inner(),
        seconds: started.elapsed().as_secs_f64(),
        unexpected: unexpected.into_inner(),
    }
}

/// Measures every kind the scan and apply send, prints a table, returns
/// the rates. DELETE runs on `delete_registry`, a throwaway copy, over the
/// images keep-10 would delete.
fn measure_ceiling(
    registry: &Registry,
    delete_registry: &Registry,
    seeded: &BenchRegistry,
    options: &Options,
) -> Ceiling {
    let duration = Duration::from_secs_f64(options.ceiling_seconds);
    let manifest =
        |repository: &str, reference: &str| format!("/v2/{repository}/manifests/{reference}");
    let mut plans: Vec<(Kind, &'static str, Vec<String>, bool, &Registry)> = vec![
        (
            Kind::Catalog,
            "GET",
            vec!["/v2/_catalog?n=100".to_owned()],
            false,
            registry,
        ),
        (
            Kind::TagList,
            "GET",
            seeded
                .repositories
                .iter()
                .map(|name| format!("/v2/{name}/tags/list"))
                .collect(),
            false,
            registry,
        ),
        (
            Kind::ManifestGet,
            "GET",
            seeded
                .images
                .iter()
                .flat_map(|image| {
                    image
                        .tags
                        .iter()
                        .map(|tag| manifest(&image.repository, tag))
                })
                .collect(),
            false,
            registry,
        ),
        (
            Kind::ManifestHead,
            "HEAD",
            seeded
                .images
                .iter()
                .flat_map(|image| {
                    std::iter::once(&image.digest)
                        .chain(&image.children)
                        .map(|digest| manifest(&image.repository, digest))
                })
                .collect(),
            false,
            registry,
        ),
        (
            Kind::BlobGet,
            "GET",
            seeded
                .images
                .iter()
                .flat_map(|image| {
                    image
                        .config_digests
                        .iter()
                        .map(|digest| format!("/v2/{}/blobs/{digest}", image.repository))
                })
                .collect(),
            false,
            registry,
        ),
        (Kind::Other, "GET", vec!["/v2/".to_owned()], false, registry),
    ];
    // The images a keep-10 apply deletes, one repository after another per
    // rank so concurrent DELETEs spread over repositories as apply's do.
    let mut deletable: Vec<_> = seeded
        .images
        .iter()
        .filter(|image| image.rank >= KEEP)
        .collect();
    deletable.sort_by(|a, b| (a.rank, &a.repository).cmp(&(b.rank, &b.repository)));
    if !deletable.is_empty() {
        plans.push((
            Kind::Delete,
            "DELETE",
            deletable
                .iter()
                .map(|image| manifest(&image.repository, &image.digest))
                .collect(),
            true,
            delete_registry,
        ));
    }
    println!(
        "\nceiling: the registry alone, {} threads with keep-alive and basic auth, {:.0} s per kind",
        options.concurrency, options.ceiling_seconds
    );
    println!(
        "  {:<10} {:>9} {:>8} {:>10}  what",
        "kind", "requests", "seconds", "req/s"
    );
    let mut ceiling = Ceiling::default();
    for (kind, method, paths, once, target) in plans {
        let measured = hammer(
            &target.url(),
            method,
            &paths,
            once,
            options.concurrency,
            duration,
        );
        let rate = measured.requests as f64 / measured.seconds.max(1e-9);
        let what = match kind {
            Kind::Catalog => "GET /v2/_catalog?n=100".to_owned(),
            Kind::TagList => format!("GET tags/list of {} repositories", paths.len()),
            Kind::ManifestGet => format!("GET manifest by tag, {} tags", paths.len()),
            Kind::ManifestHead => format!("HEAD manifest by digest, {} digests", paths.len()),
            Kind::BlobGet => format!("GET config blob, {} blobs", paths.len()),
            Kind::Delete => format!(
                "DELETE manifest by digest on a copy of the storage, each once, of the {} \
                 images keep-{KEEP} deletes",
                paths.len()
            ),
            _ => "GET /v2/ (stands for pings, 401s and other requests)".to_owned(),
        };
        let unexpected = if measured.unexpected > 0 {
            format!(" ({} unexpected answers)", measured.unexpected)
        } else {
            String::new()
        };
        println!(
            "  {:<10} {:>9} {:>8.2} {:>10.0}  {what}{unexpected}",
            kind.label(),
            measured.requests,
            measured.seconds,
            rate
        );
        ceiling.0.insert(kind, rate);
    }
    ceiling
}

/// A finished run of the `cleanreg` binary.
pub(crate) struct CliRun {
    pub(crate) seconds: f64,
    pub(crate) exit: i32,
    stdout: Vec<u8>,
    /// ru_maxrss of the process, KiB.
    pub(crate) peak_rss_kib: u64,
    stderr_path: PathBuf,
}

/// Runs `cleanreg` with `args`, the password on stdin when given, timed
/// from spawn to exit; reaps it with `wait4` for its own peak memory.
pub(crate) fn run_cli(
    binary: &Path,
    args: &[String],
    password: bool,
    work: &Path,
) -> Result<CliRun> {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let stderr_path = work.join(format!(
        "cleanreg-{}.stderr",
        RUNS.fetch_add(1, Ordering::Relaxed)
    ));
    let stderr = File::create(&stderr_path).map_err(|e| format!("{e}"))?;
    let started = Instant::now();
    let mut child = Command::new(binary)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("starting {}: {e}", binary.display()))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    if password {
        // The CLI reads the first line; a closed pipe only means it is gone.
        let _ = writeln!(stdin, "{PASSWORD}");
    }
    drop(stdin);
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        bytes
    });
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: a zeroed rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: pid is our own unreaped child; both pointers are valid for
        // the call. std's Child is not waited on afterwards.
        let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if waited == pid {
            break;
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("waiting for cleanreg: {error}"));
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let stdout = reader.join().unwrap_or_default();
    let exit = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Ok(CliRun {
        seconds,
        exit,
        stdout,
        peak_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        stderr_path,
    })
}

impl CliRun {
    /// The `--json` document, or an error with the end of stderr.
    pub(crate) fn json(&self, what: &str) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.stdout).map_err(|e| {
            let stderr = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
            let tail: Vec<&str> = stderr.lines().rev().take(20).collect();
            format!(
                "{what}: cleanreg exited {} without a JSON document ({e}); stderr ends:\n{}",
                self.exit,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            )
        })
    }
}

/// One row of the results table.
pub(crate) struct Row {
    pub(crate) name: String,
    pub(crate) requests: Requests,
    pub(crate) seconds: f64,
    pub(crate) goal: &'static str,
}

/// The width of the run column of the loopback rows.
const NAME_WIDTH: usize = 28;
/// ... and of the network paths' rows.
pub(crate) const PATH_NAME_WIDTH: usize = 34;

pub(crate) fn print_header(width: usize) {
    let mut line = format!("  {:<width$}", "run");
    for kind in KINDS {
        line.push_str(&format!(" {:>9}", kind.label()));
    }
    line.push_str(&format!(
        " {:>8} {:>8} {:>8} {:>8} {:>10}  goal",
        "total", "wall s", "req/s", "floor s", "wall/floor"
    ));
    println!("{line}");
}

pub(crate) fn print_row(row: &Row, ceiling: &Ceiling, width: usize) {
    let mut line = format!("  {:<width$}", row.name);
    for kind in KINDS {
        line.push_str(&format!(" {:>9}", row.requests.get(kind)));
    }
    let total = row.requests.total();
    let floor = ceiling.floor(&row.requests);
    line.push_str(&format!(
        " {:>8} {:>8.2} {:>8.0} {:>8.2} {:>10.2}  {}",
        total,
        row.seconds,
        total as f64 / row.seconds.max(1e-9),
        floor,
        row.seconds / floor.max(1e-9),
        row.goal
    ));
    println!("{line}");
}

pub(crate) fn temp_dir(prefix: &str) -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(&format!("cleanreg-bench-{prefix}-"))
        .tempdir()
        .map_err(|e| format!("a temporary directory: {e}"))
}

/// Copies a registry's storage directory (`cp -a`), for a registry of its own.
pub(crate) fn copy_storage(from: &Path, to: &Path) -> Result {
    let status = Command::new("cp")
        .arg("-a")
        .arg(from.join("."))
        .arg(to)
        .status()
        .map_err(|e| format!("cp: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("copying {} failed ({status})", from.display()))
    }
}

fn htpasswd_registry(storage: &Path, access_log: bool) -> Result<Registry> {
    Registry::start(RegistryOptions {
        basic_auth: Some((USER.into(), PASSWORD.into())),
        access_log,
        storage_root: Some(storage.to_path_buf()),
        ..RegistryOptions::default()
    })
    .map_err(|e| format!("starting a bench registry: {e}"))
}

/// Seeds `storage` through an open registry on it (no bcrypt per push),
/// which is stopped afterwards.
fn seed(storage: &Path, repositories: usize, tags: usize) -> Result<BenchRegistry> {
    let open = Registry::start(RegistryOptions {
        storage_root: Some(storage.to_path_buf()),
        ..RegistryOptions::default()
    })
    .map_err(|e| format!("starting the seeding registry: {e}"))?;
    let seeder = Seeder::new(&open.url(), None);
    bench_registry(
        &seeder,
        repositories,
        tags,
        time::OffsetDateTime::now_utc(),
        SEED_THREADS,
    )
    .map_err(|e| format!("seeding the bench registry: {e}"))
}

pub(crate) fn cli_binary() -> Result<PathBuf> {
    run(cmd("cargo", &["build", "--release", "-p", "cleanreg"]))?;
    Ok(target_dir().join("release/cleanreg"))
}

/// The scan+plan command line of every CLI run.
pub(crate) fn cli_args(url: &str, options: &Options, auth: bool, cache: &Path) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "-r".into(),
        url.into(),
        "--clean-full-catalog".into(),
        "-k".into(),
        KEEP.to_string(),
        "-w".into(),
        options.concurrency.to_string(),
        "--json".into(),
    ];
    if auth {
        args.extend(["-u".into(), USER.into(), "--password-stdin".into()]);
    }
    args.extend(["--cache-dir".into(), cache.display().to_string()]);
    // The history beside the cache, never the user's own.
    args.extend([
        "--history-dir".into(),
        cache.join("history").display().to_string(),
    ]);
    args
}

pub(crate) fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

pub fn bench(args: &[String]) -> Result {
    let options = options(args)?;
    if cfg!(debug_assertions) {
        // The ceiling loop is the registry's yardstick: a debug-built client
        // would understate it, and so flatter every ratio. Run optimised.
        eprintln!("bench: building and running the benchmark optimised...");
        let status = cmd(
            "cargo",
            &["run", "--quiet", "--release", "-p", "xtask", "--", "bench"],
        )
        .args(args)
        .status()
        .map_err(|e| format!("cargo run --release -p xtask: {e}"))?;
        return if status.success() {
            Ok(())
        } else {
            Err(format!("the optimised benchmark failed with {status}"))
        };
    }
    if options.untagged {
        let smoke = args.iter().any(|arg| arg == "--smoke");
        let repositories = match (options.repositories_given, smoke) {
            (true, _) => options.repositories,
            (false, true) => 2,
            (false, false) => 20,
        };
        return crate::bench_untagged::run(&crate::bench_untagged::Shape {
            repositories,
            pushes: options.pushes,
        });
    }
    if let Some(script) = &options.peer {
        let smoke = args.iter().any(|arg| arg == "--smoke");
        return crate::bench_peer::run(&crate::bench_peer::Shape {
            script: script.clone(),
            python: options.peer_python.clone(),
            repositories: match (options.repositories_given, smoke) {
                (true, _) => options.repositories,
                (false, true) => 2,
                (false, false) => 10,
            },
            images: if smoke { 15 } else { 50 },
            keep: KEEP,
            rounds: if smoke { 1 } else { 3 },
            concurrency: options.concurrency,
        });
    }
    let cli = cli_binary()?;
    let dist = if options.dashboard {
        setup::install()?;
        let dist = crate::tasks::build_release()?;
        print_wasm_size(&dist)?;
        Some(dist)
    } else {
        None
    };
    let work = temp_dir("work")?;
    let storage = temp_dir("storage")?;
    eprintln!(
        "bench: seeding {} repositories x {} tags...",
        options.repositories, options.tags
    );
    let seeded = seed(storage.path(), options.repositories, options.tags)?;
    println!(
        "\nseeded {} repositories x {} tags = {} tags on {} images ({} multi-platform indexes, \
         {} manifests; Docker and OCI alternating) in {:.1} s, pushed through an open \
         registry on the storage the htpasswd one then serves",
        seeded.repositories.len(),
        options.tags,
        seeded.tags(),
        seeded.images.len(),
        seeded.indexes(),
        seeded.manifests(),
        seeded.took.as_secs_f64()
    );
    // Fresh copies before anything deletes: one for the DELETE ceiling, one
    // for the apply run.
    let delete_storage = temp_dir("delete-ceiling")?;
    copy_storage(storage.path(), delete_storage.path())?;
    let apply_storage = temp_dir("apply")?;
    if options.apply {
        copy_storage(storage.path(), apply_storage.path())?;
    }

    let registry = htpasswd_registry(storage.path(), true)?;
    let log = AccessLog::of(&registry);
    let ceiling = {
        let delete_registry = htpasswd_registry(delete_storage.path(), false)?;
        measure_ceiling(&registry, &delete_registry, &seeded, &options)
    };
    drop(delete_storage);

    println!(
        "\nruns: keep the newest {KEEP} images of every repository, concurrency {}; requests \
         by kind from the registry's access log; floor = Σ requests ÷ ceiling of their kind",
        options.concurrency
    );
    print_header(NAME_WIDTH);
    let mut notes = Vec::new();
    let tags = seeded.tags() as f64;

    // 1. Scan+plan, dry run, cold cache.
    let cache = temp_dir("cache")?;
    let mut args = cli_args(&registry.url(), &options, true, cache.path());
    args.push("--dry-run".into());
    let from = log.len();
    let cold = run_cli(&cli, &args, true, work.path())?;
    let plan = cold.json("CLI scan+plan")?;
    let row = Row {
        name: "CLI scan+plan (cold)".into(),
        requests: log.since(from)?,
        seconds: cold.seconds,
        goal: "≤ 1.2",
    };
    print_row(&row, &ceiling, NAME_WIDTH);
    notes.push(format!(
        "CLI scan+plan: exit {}, {} images kept, {} deleted ({} manifests), peak RSS {:.1} MiB",
        cold.exit,
        plan["totals"]["kept_images"],
        plan["totals"]["deleted_images"],
        plan["totals"]["deleted_manifests"],
        mib(cold.peak_rss_kib)
    ));

    // 2. The same again, with the cache the first run left.
    let from = log.len();
    let warm = run_cli(&cli, &args, true, work.path())?;
    warm.json("CLI rescan")?;
    let requests = log.since(from)?;
    let per_tag = requests.total() as f64 / tags;
    print_row(
        &Row {
            name: "CLI rescan (warm cache)".into(),
            requests,
            seconds: warm.seconds,
            goal: "≤ 1.05 req/tag",
        },
        &ceiling,
        NAME_WIDTH,
    );
    notes.push(format!(
        "CLI rescan: exit {}, {per_tag:.3} requests per tag ({} tags), peak RSS {:.1} MiB",
        warm.exit,
        seeded.tags(),
        mib(warm.peak_rss_kib)
    ));
    drop(cache);

    // 3. Apply keep-10 on a fresh copy of the storage, cold cache.
    let mut cli_apply_seconds = f64::NAN;
    if options.apply {
        let copy = htpasswd_registry(apply_storage.path(), true)?;
        let copy_log = AccessLog::of(&copy);
        let cache = temp_dir("apply-cache")?;
        let mut args = cli_args(&copy.url(), &options, true, cache.path());
        args.extend([
            "-y".into(),
            "--recovery-file".into(),
            work.path().join("recovery.json").display().to_string(),
        ]);
        let from = copy_log.len();
        let apply = run_cli(&cli, &args, true, work.path())?;
        let report = apply.json("CLI apply")?;
        cli_apply_seconds = apply.seconds;
        print_row(
            &Row {
                name: "CLI apply keep-10 (copy)".into(),
                requests: copy_log.since(from)?,
                seconds: apply.seconds,
                goal: "≤ 1.2",
            },
            &ceiling,
            NAME_WIDTH,
        );
        notes.push(format!(
            "CLI apply: exit {}, {} manifests planned for deletion: {} deleted, {} skipped, {} \
             failed; peak RSS {:.1} MiB",
            apply.exit,
            report["totals"]["deleted_manifests"],
            report["counts"]["deleted"],
            report["counts"]["skipped"],
            report["counts"]["failed"],
            mib(apply.peak_rss_kib)
        ));
    }
    drop(apply_storage);

    // 4. The dashboard, same-origin behind nginx, in headless Chromium.
    if let Some(dist) = &dist {
        let nginx = page_nginx(dist, &registry)?;
        let from = log.len();
        let numbers = dashboard(&format!("{}/", nginx.url()), None, false, |_| Ok(()))?;
        let seconds = numbers["plan_ms"].as_f64().unwrap_or(f64::NAN) / 1000.0;
        print_row(
            &Row {
                name: "dashboard scan+plan".into(),
                requests: log.since(from)?,
                seconds,
                goal: "≤ 1.5",
            },
            &ceiling,
            NAME_WIDTH,
        );
        let mut note = format!(
            "dashboard: load to connect form {} ms, connect to scan done {} ms, to plan ready {} \
             ms ({})",
            numbers["form_ms"],
            numbers["scan_ms"],
            numbers["plan_ms"],
            numbers["status"].as_str().unwrap_or("")
        );
        for key in ["longest_task_ms", "long_tasks_over_200ms"] {
            if let Some(value) = numbers.get(key) {
                note.push_str(&format!(", {key} {value}"));
            }
        }
        notes.push(note);
        drop(nginx);
    }
    if let Some(dist) = dist.as_ref().filter(|_| options.apply) {
        notes.push(dashboard_apply(
            &storage,
            dist,
            &ceiling,
            cold.seconds,
            cli_apply_seconds,
        )?);
    }
    println!();
    for note in &notes {
        println!("  {note}");
    }

    // 5. The network paths.
    if !options.paths.is_empty() {
        let network = crate::bench_network::Network {
            cli: &cli,
            dist: dist.as_deref(),
            registry: &registry,
            log: &log,
            ceiling: &ceiling,
            options: &options,
            work: work.path(),
            tls: TestTls::generate().map_err(|e| format!("a test CA: {e}"))?,
            tags,
        };
        network.run()?;
    }
    drop(registry);
    drop(storage);

    // 6. Peak memory of a scan+plan of many tags.
    if options.memory_tags > 0 {
        memory_run(&cli, &options, work.path())?;
    }

    if options.planner {
        // The planner alone on synthetic inventories of 10k, 100k and 1M tags.
        run(cmd(
            "cargo",
            &[
                "run",
                "--release",
                "-p",
                "cleanreg-core",
                "--example",
                "plan_bench",
            ],
        ))?;
        // The same planner compiled to wasm, in V8 (Node.js's WASI), as the
        // dashboard runs it.
        setup::rust_target(WASI_TARGET)?;
        run(cmd(
            "cargo",
            &[
                "build",
                "--release",
                "-p",
                "cleanreg-core",
                "--example",
                "plan_bench",
                "--target",
                WASI_TARGET,
            ],
        ))?;
        let wasm = target_dir()
            .join(WASI_TARGET)
            .join("release/examples/plan_bench.wasm");
        println!("\nThe planner in wasm (V8 under Node.js's WASI):");
        run(cmd(
            "node",
            &[
                "--no-warnings",
                "xtask/wasi.mjs",
                &wasm.display().to_string(),
            ],
        ))?;
    }
    Ok(())
}

/// nginx serving the page from `dist` and `registry` under `/v2/` on one
/// origin, as the dashboard benchmarks run it.
fn page_nginx(dist: &Path, registry: &Registry) -> Result<Nginx> {
    Nginx::start(NginxOptions {
        root: dist.to_path_buf(),
        upstream: Some(registry.url()),
        hide_www_authenticate: true,
        ..NginxOptions::default()
    })
    .map_err(|e| format!("starting nginx: {e}"))
}

/// The dashboard's keep-10 apply on a fresh copy of the seeded storage,
/// same origin behind nginx: scan, plan, recovery file downloaded, count
/// typed, confirmed. Prints its row (connect to apply done, every request)
/// and returns its note: the apply alone (confirm to done, and the requests
/// from opening the confirmation, the recovery file's included) beside the
/// CLI's apply run less its scan+plan run.
fn dashboard_apply(
    storage: &tempfile::TempDir,
    dist: &Path,
    ceiling: &Ceiling,
    cli_scan_seconds: f64,
    cli_apply_seconds: f64,
) -> Result<String> {
    let copy_dir = temp_dir("dashboard-apply")?;
    copy_storage(storage.path(), copy_dir.path())?;
    let copy = htpasswd_registry(copy_dir.path(), true)?;
    let copy_log = AccessLog::of(&copy);
    let nginx = page_nginx(dist, &copy)?;
    let from = copy_log.len();
    let mut apply_from = None;
    let numbers = dashboard(&format!("{}/", nginx.url()), None, true, |_| {
        apply_from = Some(copy_log.len());
        Ok(())
    })?;
    let apply_from = apply_from.ok_or("e2e/bench.mjs never said it was applying")?;
    let apply_requests = copy_log.since(apply_from)?;
    let apply = &numbers["apply"];
    let apply_seconds = apply["apply_ms"].as_f64().unwrap_or(f64::NAN) / 1000.0;
    let plan_seconds = numbers["plan_ms"].as_f64().unwrap_or(f64::NAN) / 1000.0;
    print_row(
        &Row {
            name: "dashboard apply keep-10".into(),
            requests: copy_log.since(from)?,
            seconds: plan_seconds + apply_seconds,
            goal: "",
        },
        ceiling,
        NAME_WIDTH,
    );
    let deletes = apply_requests.get(Kind::Delete).max(1) as f64;
    let cli_apply_alone = cli_apply_seconds - cli_scan_seconds;
    Ok(format!(
        "dashboard apply: {} changes confirmed, {}; apply alone {apply_seconds:.1} s, {} \
         requests ({:.2} per DELETE); the CLI's apply alone (apply run less scan+plan run) \
         {cli_apply_alone:.1} s: dashboard ÷ CLI {:.2} (goal ≤ 1.3)",
        apply["changes"],
        apply["status"]
            .as_str()
            .unwrap_or("no status")
            .trim_end_matches('.'),
        apply_requests.total(),
        apply_requests.total() as f64 / deletes,
        apply_seconds / cli_apply_alone
    ))
}

/// Runs e2e/bench.mjs against the page at `url`; its BENCH numbers. With
/// `spki` (the server certificate's, see `TestTls`) Chromium trusts that
/// certificate. With `warm` set the page scans twice (see
/// `e2e/bench.mjs`) and `on_step` runs with `cold` when the first plan is
/// ready, before the second load. With `apply` the page applies its plan
/// and `on_step` runs with `apply` before the confirmation opens. Without
/// either, `on_step` never runs.
pub(crate) fn dashboard(
    url: &str,
    tls: Option<(&str, bool)>,
    apply: bool,
    mut on_step: impl FnMut(&str) -> Result,
) -> Result<serde_json::Value> {
    use std::io::BufRead as _;
    let mut command = cmd("node", &["e2e/bench.mjs"]);
    command
        .env("CLEANREG_URL", url)
        .env("CLEANREG_USER", USER)
        .env("CLEANREG_PASSWORD", PASSWORD)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if apply {
        command.env("CLEANREG_APPLY", "1");
    }
    if let Some((spki, warm)) = tls {
        if !spki.is_empty() {
            command.env("CLEANREG_SPKI", spki);
        }
        if warm {
            command.env("CLEANREG_WARM", "1");
        }
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("node e2e/bench.mjs: {e}"))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let stdout_pipe = child.stdout.take().expect("stdout is piped");
    let mut stdout = String::new();
    let mut failure = None;
    for line in std::io::BufReader::new(stdout_pipe).lines() {
        let line = line.map_err(|e| format!("reading e2e/bench.mjs: {e}"))?;
        if let Some(step) = line.strip_prefix("STEP ") {
            let name = step.split(' ').next().unwrap_or_default();
            if let Err(e) = on_step(name) {
                failure.get_or_insert(e);
            }
            // The script waits for one line; a closed pipe means it is gone.
            let _ = writeln!(stdin, "{{}}");
            let _ = stdin.flush();
        }
        stdout.push_str(&line);
        stdout.push('\n');
    }
    drop(stdin);
    let status = child
        .wait()
        .map_err(|e| format!("waiting for e2e/bench.mjs: {e}"))?;
    if let Some(failure) = failure {
        return Err(failure);
    }
    if !status.success() {
        return Err(format!(
            "the dashboard benchmark failed ({status}):\n{stdout}"
        ));
    }
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("BENCH "))
        .ok_or_else(|| format!("e2e/bench.mjs printed no BENCH line:\n{stdout}"))?;
    serde_json::from_str(line).map_err(|e| format!("BENCH line {line:?}: {e}"))
}

/// Seeds `memory_tags` tags on an open registry (a few per repository
/// through the API, the rest copied on disk, about nine tags per digest)
/// and reports the CLI's peak memory for a dry run over all of them.
fn memory_run(cli: &Path, options: &Options, work: &Path) -> Result {
    let repositories = options
        .memory_tags
        .div_ceil(MEMORY_TAGS_PER_REPOSITORY)
        .max(1);
    let per_repository = options.memory_tags / repositories;
    let api_tags = per_repository.min(MEMORY_API_TAGS);
    let storage = temp_dir("memory")?;
    eprintln!(
        "bench: seeding {} tags for the memory run...",
        repositories * per_repository
    );
    let started = Instant::now();
    let seeded = seed(storage.path(), repositories, api_tags)?;
    let root = storage.path();
    for repository in &seeded.repositories {
        let images: Vec<_> = seeded
            .images
            .iter()
            .filter(|image| &image.repository == repository)
            .collect();
        let extra = per_repository - api_tags;
        let mut copies: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for n in 0..extra {
            let source = images[n % images.len()].tags[0].as_str();
            copies
                .entry(source)
                .or_default()
                .push(format!("{source}-c{n}"));
        }
        for (tag, new_tags) in copies {
            clone_tags_on_disk(root, repository, tag, new_tags)
                .map_err(|e| format!("adding tags on disk: {e}"))?;
        }
    }
    let tags = repositories * per_repository;
    println!(
        "\nmemory: {repositories} repositories x {per_repository} tags = {tags} tags on {} \
         images (seeded in {:.1} s; {api_tags} tags per repository through the API, the rest \
         copied on disk), open registry",
        seeded.images.len(),
        started.elapsed().as_secs_f64()
    );
    let registry = Registry::start(RegistryOptions {
        access_log: true,
        storage_root: Some(root.to_path_buf()),
        ..RegistryOptions::default()
    })
    .map_err(|e| format!("starting the memory registry: {e}"))?;
    let log = AccessLog::of(&registry);
    let cache = temp_dir("memory-cache")?;
    let mut args = cli_args(&registry.url(), options, false, cache.path());
    args.push("--dry-run".into());
    let from = log.len();
    let scan = run_cli(cli, &args, false, work)?;
    let plan = scan.json("CLI memory run")?;
    let requests = log.since(from)?;
    println!(
        "  CLI scan+plan of {tags} tags (dry run, --json, cold cache): peak RSS {:.1} MiB, \
         {:.1} s, {} requests ({:.2} per tag), exit {}, {} images kept, {} deleted",
        mib(scan.peak_rss_kib),
        scan.seconds,
        requests.total(),
        requests.total() as f64 / tags as f64,
        scan.exit,
        plan["totals"]["kept_images"],
        plan["totals"]["deleted_images"],
    );
    Ok(())
}

/// Prints the size of the release wasm in `dist`, raw and gzipped.
fn print_wasm_size(dist: &Path) -> Result {
    let wasm = std::fs::read_dir(dist)
        .map_err(|e| format!("reading {}: {e}", dist.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .find(|path| path.extension().is_some_and(|ext| ext == "wasm"))
        .ok_or("no .wasm file in dist/")?;
    let raw = std::fs::metadata(&wasm)
        .map_err(|e| format!("{}: {e}", wasm.display()))?
        .len();
    let gzipped = cmd("gzip", &["-9", "-c"])
        .arg(&wasm)
        .output()
        .map_err(|e| format!("gzip: {e}"))?
        .stdout
        .len();
    println!(
        "release wasm {}: {raw} bytes raw, {gzipped} bytes gzipped (gzip -9)",
        wasm.file_name().unwrap_or_default().to_string_lossy()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_log_lines_by_kind() {
        let log = r#"127.0.0.1 - - [27/Nov/2026:10:25:56 +0000] "GET /v2/ HTTP/1.1" 200 2 "" "curl/7.88.1"
time="2026-11-27T10:25:56.96Z" level=error msg="response completed with error" http.request.method=HEAD http.request.uri=/v2/a/manifests/x
127.0.0.1 - - [27/Nov/2026:10:25:56 +0000] "HEAD /v2/a/manifests/x HTTP/1.1" 404 91 "" "ua"
127.0.0.1 - - [27/Nov/2026:10:25:57 +0000] "DELETE /v2/a/manifests/sha256:aa HTTP/1.1" 202 0 "" "ua"
127.0.0.1 - - [27/Nov/2026:10:25:57 +0000] "GET /v2/_catalog?n=100 HTTP/1.1" 200 20 "" "ua"
127.0.0.1 - - [27/Nov/2026:10:25:57 +0000] "GET /v2/_catalog?last=b&n=100 HTTP/1.1" 200 20 "" "ua"
127.0.0.1 - - [27/Nov/2026:10:25:57 +0000] "GET /v2/team/app/tags/list HTTP/1.1" 200 20 "" "ua"
127.0.0.1 - - [27/Nov/2026:10:25:57 +0000] "GET /v2/team/app/manifests/v1 HTTP/1.1" 200 500 "" "ua"
127.0.0.1 - - [27/Nov/2026:10:25:57 +0000] "GET /v2/team/app/manifests/sha256:bb HTTP/1.1" 200 500 "" "ua"
127.0.0.1 - - [27/Nov/2026:10:25:57 +0000] "GET /v2/team/app/blobs/sha256:cc HTTP/1.1" 200 300 "" "ua"
127.0.0.1 - - [27/Nov/2026:10:25:57 +0000] "HEAD /v2/team/app/blobs/sha256:cc HTTP/1.1" 200 300 "" "ua"
127.0.0.1 - - [27/Nov/2026:10:25:57 +0000] "POST /v2/team/app/blobs/uploads/ HTTP/1.1" 202 0 "" "ua"
127.0.0.1 - - [27/Nov/2026:10:25:57 +0000] "GET /v2/team/app/tags/list HTTP/1.1" 401 145 "" "ua"
not a log line
"#;
        let requests = count_requests(log);
        let expected = [
            (Kind::Catalog, 2),
            (Kind::TagList, 1),
            (Kind::ManifestGet, 2),
            (Kind::ManifestHead, 1),
            (Kind::BlobGet, 1),
            (Kind::BlobHead, 1),
            (Kind::Delete, 1),
            (Kind::Other, 2),
            (Kind::Unauthorized, 1),
        ];
        for (kind, count) in expected {
            assert_eq!(requests.get(kind), count, "{kind:?}");
        }
        assert_eq!(requests.total(), 12);
    }

    #[test]
    fn floor_adds_each_kind_over_its_ceiling() {
        let ceiling = Ceiling(BTreeMap::from([
            (Kind::ManifestGet, 100.0),
            (Kind::ManifestHead, 200.0),
            (Kind::Other, 1000.0),
        ]));
        let requests = Requests(BTreeMap::from([
            (Kind::ManifestGet, 50),
            (Kind::BlobHead, 100),
            (Kind::Unauthorized, 500),
        ]));
        assert!((ceiling.floor(&requests) - 1.5).abs() < 1e-9);
    }

    #[test]
    fn smoke_and_flags() {
        let words = |line: &str| {
            line.split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let smoke = options(&words("--tags 10 --smoke")).unwrap();
        assert_eq!((smoke.repositories, smoke.tags), (4, 10));
        assert!(options(&words("")).unwrap().apply);
        assert!(!options(&words("--no-apply")).unwrap().apply);
        let full = options(&words("--memory-tags 0 --no-dashboard --planner")).unwrap();
        assert_eq!(
            (full.memory_tags, full.dashboard, full.planner),
            (0, false, true)
        );
        assert!(options(&words("--tags")).is_err());
        assert!(options(&words("--bogus")).is_err());
        let peer = options(&words("--peer /p/registry.py --peer-python /v/python")).unwrap();
        assert_eq!(
            (peer.peer, peer.peer_python.as_str()),
            (Some(PathBuf::from("/p/registry.py")), "/v/python")
        );
        assert!(options(&words("--peer")).is_err());
    }

    #[test]
    fn paths_name_a_protocol_and_a_round_trip() {
        let words = |line: &str| {
            line.split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let path = |protocol, rtt_ms| NetPath { protocol, rtt_ms };
        let default = [
            path(Protocol::Http1, 0),
            path(Protocol::Http1, 20),
            path(Protocol::Https2, 0),
            path(Protocol::Https2, 20),
        ];
        assert_eq!(options(&[]).unwrap().paths, default);
        assert_eq!(options(&words("--smoke")).unwrap().paths, default);
        let narrowed = options(&words("--smoke --paths h2-20,h1s-50,h1-0")).unwrap();
        assert_eq!(
            narrowed.paths,
            [
                path(Protocol::Https2, 20),
                path(Protocol::Https1, 50),
                path(Protocol::Http1, 0)
            ]
        );
        assert_eq!(narrowed.paths[1].label(), "h1s-50");
        assert!(options(&words("--paths none")).unwrap().paths.is_empty());
        for bad in ["h3-20", "h2", "h2-x", "h2-20,", "", "h2--1"] {
            assert!(parse_paths(bad).is_err(), "{bad:?}");
        }
        assert!(options(&words("--paths")).is_err());
    }
}
