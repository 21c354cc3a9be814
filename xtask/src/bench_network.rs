//! The network paths of `cargo xtask bench`: the CLI's and the dashboard's
//! scans, cold then warm, through nginx in front of the bench registry over
//! plain HTTP/1.1 or https (HTTP/1.1 only, or HTTP/2 offered), with a round
//! trip added by testkit's `LatencyProxy` between the client and nginx.
//!
//! Requests are counted from the registry's access log, as in the loopback
//! rows, against the same ceiling; the protocol a row names is the one
//! nginx's access log shows for the registry requests of that run.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use cleanreg_testkit::{LatencyProxy, Nginx, NginxOptions, NginxTls, Registry, TestTls};

use crate::bench::{
    AccessLog, Ceiling, NetPath, Options, PATH_NAME_WIDTH, Protocol, Requests, Row, cli_args,
    dashboard, mib, print_header, print_row, run_cli, temp_dir,
};
use crate::run::Result;

/// Requests the dashboard has in flight at most: core's client default.
const DASHBOARD_IN_FLIGHT: usize = 8;
/// Connections Chromium opens to one host over HTTP/1.1.
const CHROMIUM_H1_CONNECTIONS: usize = 6;

/// What every network path shares: the seeded registry and its log, the
/// ceiling measured before, the CLI and the page.
pub(crate) struct Network<'a> {
    pub(crate) cli: &'a Path,
    /// The release build of the page; None skips the dashboard.
    pub(crate) dist: Option<&'a Path>,
    pub(crate) registry: &'a Registry,
    pub(crate) log: &'a AccessLog,
    pub(crate) ceiling: &'a Ceiling,
    pub(crate) options: &'a Options,
    pub(crate) work: &'a Path,
    /// The certificate every https nginx serves.
    pub(crate) tls: TestTls,
    /// Tags in the registry.
    pub(crate) tags: f64,
}

/// nginx's access log, read between two offsets.
struct NginxLog(std::path::PathBuf);

impl NginxLog {
    fn len(&self) -> u64 {
        std::fs::metadata(&self.0).map_or(0, |meta| meta.len())
    }

    /// The protocols of the registry requests logged since `from`.
    fn protocols_since(&self, from: u64) -> Result<String> {
        let bytes = std::fs::read(&self.0).map_err(|e| format!("{}: {e}", self.0.display()))?;
        let start = usize::try_from(from).unwrap_or(usize::MAX).min(bytes.len());
        Ok(protocol_summary(&String::from_utf8_lossy(&bytes[start..])))
    }
}

/// The protocols of the `/v2/` requests in an access log in the combined
/// format (`... "GET /v2/ HTTP/2.0" 200 ...`), e.g. `HTTP/2.0`, or
/// `HTTP/1.1 3 + HTTP/2.0 200` when mixed, `none` without any.
pub(crate) fn protocol_summary(log: &str) -> String {
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for line in log.lines() {
        let Some((_, request)) = line.split_once("] \"") else {
            continue;
        };
        let Some((request_line, _)) = request.split_once('"') else {
            continue;
        };
        let words: Vec<&str> = request_line.split(' ').collect();
        if let [_, uri, protocol] = words[..]
            && uri.starts_with("/v2/")
        {
            *counts.entry(protocol).or_default() += 1;
        }
    }
    match counts.len() {
        0 => "none".to_owned(),
        1 => counts.keys().next().copied().unwrap_or_default().to_owned(),
        _ => counts
            .iter()
            .map(|(protocol, count)| format!("{protocol} {count}"))
            .collect::<Vec<_>>()
            .join(" + "),
    }
}

/// Seconds the round trips alone take: every request waits one, `in_flight`
/// at a time.
fn round_trip_bound(requests: &Requests, rtt_ms: u32, in_flight: usize) -> f64 {
    requests.total() as f64 * f64::from(rtt_ms) / 1000.0 / in_flight.max(1) as f64
}

impl Network<'_> {
    /// Measures every path of `--paths` and prints their rows and notes.
    pub(crate) fn run(&self) -> Result {
        println!(
            "\nnetwork paths: nginx in front of the same registry, <protocol>-<added round \
             trip ms> (h1 plain http, h1s https with HTTP/1.1 only, h2 https with HTTP/2 \
             offered; the round trip from testkit's latency proxy between client and nginx); \
             cold then warm (the CLI with the cache of its first run, the dashboard opened again \
             in the same browser profile); [the protocol nginx logged for the registry \
             requests]"
        );
        print_header(PATH_NAME_WIDTH);
        let ca = self.work.join("network-ca.pem");
        std::fs::write(&ca, self.tls.ca_pem()).map_err(|e| format!("{}: {e}", ca.display()))?;
        let mut notes = Vec::new();
        for path in &self.options.paths {
            self.path(*path, &ca, &mut notes)?;
        }
        println!();
        for note in &notes {
            println!("  {note}");
        }
        Ok(())
    }

    fn path(&self, path: NetPath, ca: &Path, notes: &mut Vec<String>) -> Result {
        let label = path.label();
        let tls = match path.protocol {
            Protocol::Http1 => None,
            Protocol::Https1 => Some(NginxTls {
                tls: self.tls.clone(),
                http2: false,
            }),
            Protocol::Https2 => Some(NginxTls {
                tls: self.tls.clone(),
                http2: true,
            }),
        };
        let https = tls.is_some();
        let no_page = temp_dir("no-page")?;
        let nginx = Nginx::start(NginxOptions {
            root: self.dist.unwrap_or(no_page.path()).to_path_buf(),
            upstream: Some(self.registry.url()),
            tls,
            ..NginxOptions::default()
        })
        .map_err(|e| format!("starting nginx for {label}: {e}"))?;
        let nginx_log = NginxLog(nginx.access_log_path());
        let proxy = if path.rtt_ms > 0 {
            let one_way = Duration::from_micros(u64::from(path.rtt_ms) * 500);
            Some(
                LatencyProxy::in_front_of(&nginx.url(), one_way)
                    .map_err(|e| format!("starting the latency proxy for {label}: {e}"))?,
            )
        } else {
            None
        };
        let scheme = if https { "https" } else { "http" };
        let url = proxy
            .as_ref()
            .map_or_else(|| nginx.url(), |proxy| proxy.url(scheme));

        // The CLI, cold then with the cache of its first run.
        let cache = temp_dir("path-cache")?;
        let mut args = cli_args(&url, self.options, true, cache.path());
        args.push("--dry-run".into());
        if https {
            args.extend(["-c".into(), ca.display().to_string()]);
        }
        for (which, goal) in [("cold", "≤ 1.2"), ("warm", "≤ 1.05 req/tag")] {
            let (from, nginx_from) = (self.log.len(), nginx_log.len());
            let ran = run_cli(self.cli, &args, true, self.work)?;
            let plan = ran.json(&format!("{label} CLI {which}"))?;
            let requests = self.log.since(from)?;
            let protocol = nginx_log.protocols_since(nginx_from)?;
            let mut note = format!(
                "{label} CLI {which}: exit {}, {:.3} requests per tag, {} images deleted, peak \
                 RSS {:.1} MiB",
                ran.exit,
                requests.total() as f64 / self.tags,
                plan["totals"]["deleted_images"],
                mib(ran.peak_rss_kib)
            );
            if path.rtt_ms > 0 {
                note.push_str(&format!(
                    "; round trips alone ({} in flight): {:.1} s",
                    self.options.concurrency,
                    round_trip_bound(&requests, path.rtt_ms, self.options.concurrency)
                ));
            }
            notes.push(note);
            print_row(
                &Row {
                    name: format!("{label} CLI {which} [{protocol}]"),
                    requests,
                    seconds: ran.seconds,
                    goal,
                },
                self.ceiling,
                PATH_NAME_WIDTH,
            );
        }
        drop(cache);

        // The dashboard: a fresh profile, then opened again in it.
        if self.dist.is_some() {
            let spki = if https {
                self.tls.server_spki_sha256_base64()
            } else {
                String::new()
            };
            let (from, nginx_from) = (self.log.len(), nginx_log.len());
            let mut cold = None;
            let mut warm_from = (0, 0);
            let numbers = dashboard(&format!("{url}/"), Some((&spki, true)), false, |_| {
                cold = Some((
                    self.log.since(from)?,
                    nginx_log.protocols_since(nginx_from)?,
                ));
                warm_from = (self.log.len(), nginx_log.len());
                Ok(())
            })?;
            let (cold_requests, cold_protocol) =
                cold.ok_or("e2e/bench.mjs never said its first plan was ready")?;
            let warm_requests = self.log.since(warm_from.0)?;
            let warm_protocol = nginx_log.protocols_since(warm_from.1)?;
            let warm = &numbers["warm"];
            let text = |value: &serde_json::Value| match value {
                serde_json::Value::String(text) => text.clone(),
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|item| item.as_str().unwrap_or("?"))
                    .collect::<Vec<_>>()
                    .join("+"),
                other => other.to_string(),
            };
            let in_flight = if path.protocol == Protocol::Https2 {
                DASHBOARD_IN_FLIGHT
            } else {
                DASHBOARD_IN_FLIGHT.min(CHROMIUM_H1_CONNECTIONS)
            };
            let mut note = format!(
                "{label} dashboard: navigation to an enabled Connect {} ms cold, {} ms cached \
                 ({} of {} files from the HTTP cache); page over {}, registry requests over {}; \
                 connect to plan ready {} ms cold, {} ms warm; cold {:?}, warm {:?}",
                numbers["load_ms"],
                warm["load_ms"],
                warm["cached_files"],
                warm["files"],
                text(&numbers["protocol"]),
                text(&numbers["registry_protocols"]),
                numbers["plan_ms"],
                warm["plan_ms"],
                text(&numbers["status"]),
                text(&warm["status"]),
            );
            if path.rtt_ms > 0 {
                note.push_str(&format!(
                    "; round trips alone ({in_flight} in flight): {:.1} s cold, {:.1} s warm",
                    round_trip_bound(&cold_requests, path.rtt_ms, in_flight),
                    round_trip_bound(&warm_requests, path.rtt_ms, in_flight),
                ));
            }
            notes.push(note);
            for (which, requests, protocol, ms, goal) in [
                (
                    "cold",
                    cold_requests,
                    cold_protocol,
                    &numbers["plan_ms"],
                    "≤ 1.5",
                ),
                ("warm", warm_requests, warm_protocol, &warm["plan_ms"], ""),
            ] {
                print_row(
                    &Row {
                        name: format!("{label} dashboard {which} [{protocol}]"),
                        requests,
                        seconds: ms.as_f64().unwrap_or(f64::NAN) / 1000.0,
                        goal,
                    },
                    self.ceiling,
                    PATH_NAME_WIDTH,
                );
            }
        }
        drop(proxy);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_of_the_registry_requests_in_nginx_access_log() {
        let line = |request: &str| {
            format!("127.0.0.1 - - [06/Dec/2026:04:00:00 +0000] \"{request}\" 200 2 \"-\" \"ua\"\n")
        };
        let h2 = line("GET /v2/ HTTP/2.0") + &line("HEAD /v2/a/manifests/v1 HTTP/2.0");
        let page = line("GET /index.html HTTP/1.1");
        assert_eq!(protocol_summary(&(h2.clone() + &page)), "HTTP/2.0");
        assert_eq!(
            protocol_summary(&(h2 + &line("GET /v2/_catalog HTTP/1.1"))),
            "HTTP/1.1 1 + HTTP/2.0 2"
        );
        assert_eq!(protocol_summary(&page), "none");
        assert_eq!(protocol_summary("not a log line\n"), "none");
    }

    #[test]
    fn round_trips_alone_are_requests_times_rtt_over_in_flight() {
        let mut requests = Requests::default();
        requests.add(crate::bench::Kind::ManifestHead, 800);
        assert!((round_trip_bound(&requests, 20, 8) - 2.0).abs() < 1e-9);
    }
}
