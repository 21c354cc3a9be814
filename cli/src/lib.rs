//! The `cleanreg` command: scan, plan, confirm, save a recovery file,
//! delete, report. Also `--apply-plan` for a saved plan and `restore`.
//!
//! The command never decides what to delete: core plans, and this crate
//! only gathers the inputs, asks, and reports. Nothing is deleted before the
//! recovery file is written; if its manifests cannot be read, nothing is
//! deleted at all. Before apply, a token-auth registry is asked which
//! repositories the account may not delete in, and a saved plan is marked
//! the same way. Exit status: 0 ok, 1 error, 2 usage, 3 partial failure.

pub mod args;
pub mod cache;
mod files;
pub mod history;
mod progress;
pub mod recovery_dir;
mod report;
pub mod restore;
pub mod storage;
pub mod transport;

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cleanreg_core::{
    ApplyReport, Client, Credentials, GARBAGE_COLLECT_HINT, ImportReport, InUseFile,
    OriginalSettings, Plan, PlanFile, Policy, RegistryUrl, RunManifests, ScanScope, ScanSources,
    Since, StorageBlobs, parse_reposfile, plan, plan_with, read_policy, registry_host,
};
use serde::Serialize;
use time::OffsetDateTime;

pub use args::{Args, Command};
use storage::{DirStorage, GivenStorage};
pub use transport::{NativeTransport, TransportOptions};

/// Exit status: done, or nothing to do.
pub const EXIT_OK: u8 = 0;
/// Exit status: the registry or a file could not be read or written;
/// nothing was deleted after the error.
pub const EXIT_ERROR: u8 = 1;
/// Exit status: the command line (or a policy or repository file) is wrong.
pub const EXIT_USAGE: u8 = 2;
/// Exit status: some deletes or restores failed; the report says which.
pub const EXIT_PARTIAL: u8 = 3;

/// Why the command stopped early.
#[derive(Debug)]
enum Stop {
    Usage(String),
    Error(String),
}

fn usage(message: impl Into<String>) -> Stop {
    Stop::Usage(message.into())
}

fn error(message: impl Into<String>) -> Stop {
    Stop::Error(message.into())
}

/// Where text goes: with `--json` stdout carries only the JSON document
/// and everything meant for a person goes to stderr.
struct Console<'a> {
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    json: bool,
    /// Draw progress bars (stderr is a terminal).
    bars: bool,
    verbose: u8,
}

impl Console<'_> {
    fn human(&mut self) -> &mut dyn Write {
        if self.json { self.err } else { self.out }
    }
}

fn io_error(e: std::io::Error) -> Stop {
    error(format!("writing output: {e}"))
}

/// Runs the command; `input` gives `--password-stdin` and the answer to the
/// confirmation question.
pub fn run(
    args: &Args,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> ExitCode {
    let mut console = Console {
        out,
        err,
        json: args.json,
        bars: std::io::stderr().is_terminal() && args.verbose == 0,
        verbose: args.verbose,
    };
    match run_inner(args, input, &mut console) {
        Ok(code) => ExitCode::from(code),
        Err(Stop::Usage(message)) => {
            let _ = writeln!(console.err, "cleanreg: {message}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(Stop::Error(message)) => {
            let _ = writeln!(console.err, "cleanreg: {message}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run_inner(args: &Args, input: &mut dyn BufRead, console: &mut Console) -> Result<u8, Stop> {
    if let Some(Command::Restore {
        list: true,
        storage,
        ..
    }) = &args.command
    {
        return list_recovery_files(args, storage.as_deref(), console);
    }
    let credentials = credentials(args, input)?;
    if let Some(Command::Restore {
        file: Some(file), ..
    }) = &args.command
    {
        return restore(args, credentials, file, console);
    }
    if let Some(path) = &args.apply_plan {
        let text = read_file(path)?;
        let saved =
            PlanFile::from_json(&text).map_err(|e| usage(format!("{}: {e}", path.display())))?;
        let registry = match &args.registry {
            Some(given) => {
                let given = parse_registry(given)?;
                let saved_for = parse_registry(&saved.registry)?;
                if given.as_str() != saved_for.as_str() {
                    return Err(usage(format!(
                        "{} was made for {saved_for}, not {given}; give -r {saved_for} or plan again",
                        path.display()
                    )));
                }
                given
            }
            None => parse_registry(&saved.registry)?,
        };
        let storage = given_storage(args)?;
        let client = client(args, registry, credentials)?;
        return futures_executor::block_on(async {
            client.ping().await.map_err(|e| error(e.to_string()))?;
            let mut plan = saved.plan;
            let permissions = client
                .delete_permissions(plan.changes().map(|entry| &entry.repository))
                .await;
            plan.block_denied(&permissions);
            report::print_plan(&plan, console.human()).map_err(io_error)?;
            delete(
                args,
                &client,
                &plan,
                &storage,
                &scan_cache(args),
                input,
                console,
            )
            .await
        });
    }
    let (policy, scope, imported) = selection(args)?;
    if let Some(report) = imported {
        write!(console.err, "{report}").map_err(io_error)?;
    }
    let in_use = in_use_files(args)?;
    let storage = given_storage(args)?;
    let registry = parse_registry(
        args.registry
            .as_deref()
            .ok_or_else(|| usage("give the registry with -r URL"))?,
    )?;
    let client = client(args, registry, credentials)?;
    futures_executor::block_on(async {
        client.ping().await.map_err(|e| error(e.to_string()))?;
        let mut bar = progress::Bar::new(console.bars);
        let verbose = console.verbose > 0;
        let err = &mut *console.err;
        let cache = scan_cache(args);
        let history = scan_history(args);
        let sources = ScanSources {
            cache: &cache,
            history: &history,
            storage: &storage,
            previous: None,
        };
        let (mut inventory, reuse) = client
            .scan_with(&scope, &sources, &mut |step| {
                if verbose {
                    let _ = writeln!(err, "scan: {step}");
                }
                bar.scan(step);
            })
            .await
            .map_err(|e| scan_failed(&e, &policy))?;
        bar.finish();
        if verbose {
            if let Some(history) = &history {
                let _ = writeln!(
                    err,
                    "scan history {}: {} manifests no tag reaches asked about, {} of them gone",
                    history.root().display(),
                    reuse.untagged_checked,
                    reuse.untagged_gone
                );
            }
            if let Some(storage) = &storage.0 {
                let _ = writeln!(err, "storage {} read", storage.root().display());
            }
        }
        if let cache::RunCache::Dir(cache) = &cache {
            let kept = cache.trim();
            if verbose {
                let _ = writeln!(
                    err,
                    "scan cache {}: {} manifests and {} config dates taken from it, {} manifests \
                     and {} configs read from the registry; {} KiB kept",
                    cache.root().display(),
                    reuse.manifests_cached,
                    reuse.configs_cached,
                    reuse.manifests_fetched,
                    reuse.configs_fetched,
                    kept / 1024
                );
            }
        }
        match reuse.referrers_api {
            Some(true) => writeln!(
                err,
                "The registry serves the OCI referrers API: the referrers of {} manifests listed, \
                 {} found only through it.",
                reuse.referrers_listed, reuse.referrers_found
            )
            .map_err(io_error)?,
            Some(false) if verbose => writeln!(
                err,
                "The registry has no OCI referrers API (404): referrers are found through their \
                 tags and subjects only."
            )
            .map_err(io_error)?,
            _ => {}
        }
        // Tag references resolve against this scan: the plan's moment.
        for file in &in_use.files {
            let report = file.pin_also(&mut inventory, client.registry(), &in_use.hosts);
            writeln!(err, "{report}").map_err(io_error)?;
        }
        let now = OffsetDateTime::now_utc();
        let mut plan = plan(&inventory, &policy, now);
        // With token auth, ask what the token server grants where the plan
        // deletes: entries it refuses are marked before anything is sent.
        let permissions = client
            .delete_permissions(plan.changes().map(|entry| &entry.repository))
            .await;
        if !permissions.is_empty() {
            plan = plan_with(&inventory, &policy, now, &permissions);
        }
        report::print_plan(&plan, console.human()).map_err(io_error)?;
        let deletes_untagged = policy.default.delete_untagged
            || policy
                .repositories
                .values()
                .any(|rule| rule.delete_untagged);
        if deletes_untagged && storage.0.is_none() && reuse.history_unknown > 0 {
            writeln!(
                console.err,
                "Note: the scan history had no record of {} of these repositories yet, so \
                 manifests their tags left untagged before this scan are not known; later scans \
                 find what is left from now on, and --storage DIR (the registry's storage) finds \
                 all of them.",
                reuse.history_unknown
            )
            .map_err(io_error)?;
        }
        if let Some(path) = &args.plan_out {
            let saved = PlanFile::new(client.registry().as_str(), plan.clone());
            files::write_new(path, "the plan file", saved.to_json_pretty().as_bytes())
                .map_err(error)?;
            writeln!(
                console.human(),
                "Plan saved to {}; apply it with --apply-plan {}",
                path.display(),
                path.display()
            )
            .map_err(io_error)?;
        }
        delete(args, &client, &plan, &storage, &cache, input, console).await
    })
}

/// A failed scan; a catalog the registry will not list gets the fix for
/// this command line.
fn scan_failed(e: &cleanreg_core::Error, policy: &Policy) -> Stop {
    if let cleanreg_core::Error::CatalogRefused { .. } = e {
        let globs: Vec<String> = policy
            .repositories
            .keys()
            .filter(|pattern| !pattern.is_exact())
            .map(ToString::to_string)
            .collect();
        let rules = if globs.is_empty() {
            String::new()
        } else {
            format!(
                " The policy's rules {} are globs: without the catalog they match only \
                 repositories given with -n.",
                globs.join(", ")
            )
        };
        return error(format!(
            "scan failed, nothing was deleted: {e}.{rules} Fix: give each repository to clean \
             with -n NAME (-n team/app -n team/tool), so the catalog is not read"
        ));
    }
    error(format!("scan failed, nothing was deleted: {e}"))
}

/// Confirms, saves the recovery file, deletes, removes tags and reports.
async fn delete(
    args: &Args,
    client: &Client<NativeTransport>,
    plan: &Plan,
    storage: &GivenStorage,
    cache: &cache::RunCache,
    input: &mut dyn BufRead,
    console: &mut Console<'_>,
) -> Result<u8, Stop> {
    let totals = plan.totals();
    let finish = |console: &mut Console, report: Option<&ApplyReport>, recovery: Option<&Path>| {
        if console.json {
            let document = JsonReport {
                registry: client.registry().as_str(),
                plan,
                totals: plan.totals(),
                recovery_file: recovery.map(|p| p.display().to_string()),
                outcomes: report.map(|r| r.outcomes.as_slice()).unwrap_or_default(),
                counts: report.map(ApplyReport::counts),
            };
            let text = serde_json::to_string_pretty(&document)
                .map_err(|e| error(format!("encoding JSON: {e}")))?;
            writeln!(console.out, "{text}").map_err(io_error)?;
        }
        Ok::<(), Stop>(())
    };
    if totals.changes() == 0 {
        writeln!(console.human(), "Nothing to delete.").map_err(io_error)?;
        finish(console, None, None)?;
        return Ok(EXIT_OK);
    }
    if args.dry_run {
        writeln!(console.human(), "Dry run: nothing was deleted.").map_err(io_error)?;
        finish(console, None, None)?;
        return Ok(EXIT_OK);
    }
    if !args.assume_yes() {
        let human = console.human();
        write!(
            human,
            "{} {}? [y/N] ",
            report::question(&totals),
            client.registry()
        )
        .map_err(io_error)?;
        human.flush().map_err(io_error)?;
        let mut answer = String::new();
        input
            .read_line(&mut answer)
            .map_err(|e| error(format!("reading the answer: {e}")))?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            writeln!(console.human(), "Nothing deleted.").map_err(io_error)?;
            finish(console, None, None)?;
            return Ok(EXIT_OK);
        }
    }
    // Exact bytes from the cache (or this run's scan) or the storage cost
    // no request.
    let bytes = StorageBlobs { storage, cache };
    let recovery = client
        .recovery_for_cached(plan, &bytes)
        .await
        .map_err(|e| {
            error(format!(
                "could not read the manifests for the recovery file, nothing was deleted: {e}"
            ))
        })?;
    let recovery_path = match &args.recovery_file {
        Some(path) => restore::write_recovery(path, &recovery).map(|()| path.clone()),
        None => recovery_dir::write_unique(&recovery_dir(args), &recovery),
    }
    .map_err(|e| error(format!("{e}; nothing was deleted")))?;
    writeln!(
        console.human(),
        "Recovery file: {} (until garbage collection runs, `cleanreg restore {}` puts these \
         manifests and tags back)",
        recovery_path.display(),
        recovery_path.display()
    )
    .map_err(io_error)?;
    let mut bar = progress::Bar::new(console.bars);
    let report = {
        let Console { out, err, json, .. } = &mut *console;
        let human: &mut dyn Write = if *json { &mut **err } else { &mut **out };
        client
            .apply(plan, &mut |counts, entry| {
                bar.apply(counts);
                let _ = report::print_outcome(entry, human);
            })
            .await
    };
    bar.finish();
    report::print_summary(&report, totals.removed_tags > 0, console.human()).map_err(io_error)?;
    let counts = report.counts();
    let left = report.replacement_blobs();
    if counts.deleted > 0 || !left.is_empty() {
        writeln!(console.human(), "\n{GARBAGE_COLLECT_HINT}").map_err(io_error)?;
        report::print_replacement_blobs(&left, console.human()).map_err(io_error)?;
    }
    finish(console, Some(&report), Some(&recovery_path))?;
    Ok(if counts.failed > 0 {
        EXIT_PARTIAL
    } else {
        EXIT_OK
    })
}

/// The `--json` document.
#[derive(Serialize)]
struct JsonReport<'a> {
    registry: &'a str,
    plan: &'a Plan,
    totals: cleanreg_core::PlanTotals,
    /// Where the recovery file was written; absent when nothing was deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    recovery_file: Option<String>,
    /// One per delete attempted; empty on a dry run.
    outcomes: &'a [cleanreg_core::EntryOutcome],
    #[serde(skip_serializing_if = "Option::is_none")]
    counts: Option<cleanreg_core::ApplyCounts>,
}

fn restore(
    args: &Args,
    credentials: Option<Credentials>,
    file: &Path,
    console: &mut Console,
) -> Result<u8, Stop> {
    let recovery = restore::read_recovery(file).map_err(usage)?;
    let registry = match &args.registry {
        Some(given) => parse_registry(given)?,
        None => parse_registry(&recovery.registry)?,
    };
    let client = client(args, registry, credentials)?;
    futures_executor::block_on(async {
        client.ping().await.map_err(|e| error(e.to_string()))?;
        let report = restore::restore_file(&client, file, &recovery, console.human())
            .await
            .map_err(usage)?;
        if console.json {
            let text = serde_json::to_string_pretty(&report)
                .map_err(|e| error(format!("encoding JSON: {e}")))?;
            writeln!(console.out, "{text}").map_err(io_error)?;
        }
        // A tag left alone on a manifest that was there all along (an entry
        // the apply skipped) lost nothing; anything else not put back did.
        let lost = report.outcomes.iter().any(|outcome| match &outcome.result {
            cleanreg_core::RestoreResult::Failed { .. } => true,
            cleanreg_core::RestoreResult::Partial { was_present, .. } => !was_present,
            _ => false,
        });
        Ok(if lost { EXIT_PARTIAL } else { EXIT_OK })
    })
}

/// The policy and the repositories to scan, from `--policy` or from the
/// original's flags.
fn selection(args: &Args) -> Result<(Policy, ScanScope, Option<ImportReport>), Stop> {
    if let Some(path) = &args.policy {
        let clash = [
            (args.keep.is_some(), "-k"),
            (args.since.is_some(), "-s"),
            (args.reposfile.is_some(), "-f"),
            (args.regex, "-re"),
            (args.ignore_ref_tags, "-i"),
        ];
        if let Some((_, flag)) = clash.iter().find(|(given, _)| *given) {
            return Err(usage(format!(
                "--policy replaces {flag}: put it in the policy file instead"
            )));
        }
        if args.delete_untagged {
            return Err(usage(
                "--policy replaces --delete-untagged: put `delete_untagged = true` in the \
                 policy file's rules instead",
            ));
        }
        let text = read_file(path)?;
        let (policy, imported) = read_policy(
            &text,
            &path.to_string_lossy(),
            args.policy_format.as_deref(),
        )
        .map_err(|e| usage(format!("{}: {e}", path.display())))?;
        let scope = if args.repositories.is_empty() || args.full_catalog {
            ScanScope::Catalog
        } else {
            // A name, or a prefix ending in `/` as the dashboard's
            // Repositories field takes it (its cron line passes them on).
            for given in &args.repositories {
                if given.contains(':') {
                    return Err(usage(format!(
                        "-n {given}: with --policy, limit tags with only_tags in the policy"
                    )));
                }
                ScanScope::parse_list(given).map_err(|e| {
                    usage(format!(
                        "-n {given}: {}",
                        e.split_once(": ").map_or(e.as_str(), |(_, why)| why)
                    ))
                })?;
            }
            ScanScope::parse_list(&args.repositories.join("\n")).map_err(usage)?
        };
        return Ok((policy, scope, imported));
    }
    let since = args
        .since
        .as_deref()
        .map(|text| {
            text.parse::<Since>()
                .map_err(|e| usage(format!("-s {text}: {e}")))
        })
        .transpose()?;
    let reposfile = match &args.reposfile {
        Some(path) => {
            let text = read_file(path)?;
            let parsed =
                parse_reposfile(&text).map_err(|e| usage(format!("{}: {e}", path.display())))?;
            Some((path.display().to_string(), parsed))
        }
        None => None,
    };
    let settings = OriginalSettings {
        keep_images: args.keep,
        since,
        regex: args.regex,
        ignore_ref_tags: args.ignore_ref_tags,
        full_catalog: args.full_catalog,
        repositories: args.repositories.clone(),
        reposfile,
    };
    let mut selection = settings.selection().map_err(usage)?;
    if args.delete_untagged {
        // Without -cf the default rule covers no scanned repository.
        if args.full_catalog {
            selection.policy.default.delete_untagged = true;
        }
        for rule in selection.policy.repositories.values_mut() {
            rule.delete_untagged = true;
        }
    }
    let scope = match selection.repositories {
        Some(names) => ScanScope::Repositories(names),
        None => ScanScope::Catalog,
    };
    Ok((selection.policy, scope, None))
}

fn credentials(args: &Args, input: &mut dyn BufRead) -> Result<Option<Credentials>, Stop> {
    let password = if args.password_stdin {
        let mut line = String::new();
        input
            .read_line(&mut line)
            .map_err(|e| error(format!("reading the password from stdin: {e}")))?;
        let line = line.trim_end_matches(['\n', '\r']);
        if line.is_empty() {
            return Err(usage("--password-stdin: standard input gave no password"));
        }
        Some(line.to_owned())
    } else {
        args.password.as_ref().map(|p| p.expose().to_owned())
    };
    match (&args.user, password) {
        (Some(user), Some(password)) => Ok(Some(Credentials::new(user, &password))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(usage(
            "-u needs a password: give -pw PASSWORD, --password-stdin or set CLEANREG_PASSWORD",
        )),
        (None, Some(_)) => Err(usage("a password needs a user: give -u USER")),
    }
}

fn parse_registry(text: &str) -> Result<RegistryUrl, Stop> {
    RegistryUrl::parse(text).map_err(|e| usage(format!("-r {text}: {e}")))
}

fn client(
    args: &Args,
    registry: RegistryUrl,
    credentials: Option<Credentials>,
) -> Result<Client<NativeTransport>, Stop> {
    let options = TransportOptions {
        ca_file: args.cacert.clone(),
        skip_tls_verify: args.skip_tls_verify,
        ..TransportOptions::default()
    };
    // The original reached the registry directly unless -p asked for the
    // system proxy; so does cleanreg.
    let options = if args.proxy {
        options.with_env_proxy()
    } else {
        options
    };
    let transport = NativeTransport::with_options(&options).map_err(usage)?;
    Ok(Client::new(transport, registry, credentials).with_concurrency(args.workers.max(1)))
}

/// The scan cache the flags ask for: `--cache-dir`, else the XDG default;
/// with `--no-cache` (or no default directory known) only the manifests
/// this run reads, in memory (see [`RUN_MANIFESTS_BYTES`]).
fn scan_cache(args: &Args) -> cache::RunCache {
    let root = match &args.cache_dir {
        _ if args.no_cache => None,
        Some(dir) => Some(dir.clone()),
        None => cache::DirCache::default_root(|name| std::env::var(name).ok()),
    };
    match root {
        Some(root) => cache::RunCache::Dir(cache::DirCache::new(
            root,
            args.cache_mib.saturating_mul(1024 * 1024),
        )),
        None => cache::RunCache::Memory(RunManifests::new(cache::RUN_MANIFESTS_BYTES)),
    }
}

/// The scan history the flags ask for: `--history-dir`, else the XDG
/// state default; none with `--no-history` or when no default is known.
fn scan_history(args: &Args) -> Option<history::HistoryDir> {
    if args.no_history {
        return None;
    }
    let root = match &args.history_dir {
        Some(dir) => dir.clone(),
        None => history::HistoryDir::default_root(|name| std::env::var(name).ok())?,
    };
    Some(history::HistoryDir::new(root))
}

/// `--storage DIR`, checked before anything is asked of the registry.
fn given_storage(args: &Args) -> Result<GivenStorage, Stop> {
    match &args.storage {
        Some(root) => Ok(GivenStorage(Some(DirStorage::open(root).map_err(usage)?))),
        None => Ok(GivenStorage(None)),
    }
}

/// The `--in-use` files and the registry's other names there.
struct InUse {
    files: Vec<InUseFile>,
    hosts: Vec<String>,
}

/// The `--in-use` files and `--in-use-host` names, read and checked before
/// anything is asked of the registry; a bad line or name is named.
fn in_use_files(args: &Args) -> Result<InUse, Stop> {
    let files = args
        .in_use
        .iter()
        .map(|path| {
            let text = read_file(path)?;
            InUseFile::parse(&path.display().to_string(), &text).map_err(|e| usage(e.to_string()))
        })
        .collect::<Result<_, _>>()?;
    let hosts = args
        .in_use_hosts
        .iter()
        .map(|host| registry_host(host).map_err(|e| usage(format!("--in-use-host: {e}"))))
        .collect::<Result<_, _>>()?;
    Ok(InUse { files, hosts })
}

fn read_file(path: &Path) -> Result<String, Stop> {
    std::fs::read_to_string(path).map_err(|e| usage(format!("{}: {e}", path.display())))
}

/// `--recovery-dir`, else the XDG state default, else the current
/// directory (no `HOME` either).
fn recovery_dir(args: &Args) -> PathBuf {
    args.recovery_dir.clone().unwrap_or_else(|| {
        recovery_dir::default_root(|name| std::env::var(name).ok())
            .unwrap_or_else(|| PathBuf::from("."))
    })
}

/// `cleanreg restore --list`: offline, reads only the recovery directory.
fn list_recovery_files(
    args: &Args,
    storage: Option<&Path>,
    console: &mut Console,
) -> Result<u8, Stop> {
    let storage = storage.map(DirStorage::open).transpose().map_err(usage)?;
    let dir = recovery_dir(args);
    let listed = recovery_dir::list(&dir, storage.as_ref()).map_err(error)?;
    if console.json {
        let text = serde_json::to_string_pretty(&listed)
            .map_err(|e| error(format!("encoding JSON: {e}")))?;
        writeln!(console.out, "{text}").map_err(io_error)?;
    } else {
        recovery_dir::print_list(&dir, &listed, OffsetDateTime::now_utc(), console.out)
            .map_err(io_error)?;
    }
    Ok(EXIT_OK)
}
