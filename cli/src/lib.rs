//! The `cleanreg` command: scan, plan, confirm, delete, report.

pub mod args;
mod report;
pub mod transport;

use std::io::{BufRead, Write};
use std::process::ExitCode;

use cleanreg_core::{
    Client, Credentials, GARBAGE_COLLECT_HINT, Policy, RegistryUrl, RepositoryName, ScanScope, plan,
};
use time::OffsetDateTime;

pub use args::Args;
pub use transport::NativeTransport;

/// Exit status when some deletes failed.
pub const EXIT_FAILED_DELETES: u8 = 1;
/// Exit status for bad arguments or a registry that could not be read.
pub const EXIT_ERROR: u8 = 2;

/// Runs the command; `input` answers the confirmation question.
pub fn run(
    args: &Args,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> ExitCode {
    match run_inner(args, input, out, err) {
        Ok(code) => code,
        Err(message) => {
            let _ = writeln!(err, "cleanreg: {message}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run_inner(
    args: &Args,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitCode, String> {
    let registry = RegistryUrl::parse(&args.registry).map_err(|e| e.to_string())?;
    let repositories = args
        .repositories
        .iter()
        .map(|name| name.parse::<RepositoryName>().map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let credentials = match (&args.user, &args.password) {
        (Some(user), Some(password)) => Some(Credentials::new(user, password)),
        (None, None) => None,
        (Some(_), None) => {
            return Err("-u needs a password: give -pw PASSWORD or set CLEANREG_PASSWORD".into());
        }
        (None, Some(_)) => return Err("a password needs a user: give -u USER".into()),
    };
    let client = Client::new(NativeTransport::new(args.proxy), registry, credentials)
        .with_concurrency(args.workers);
    let io = |e: std::io::Error| format!("writing output: {e}");

    futures_executor::block_on(async {
        client.ping().await.map_err(|e| e.to_string())?;
        let verbose = args.verbose > 0;
        let inventory = client
            .scan(&ScanScope::Repositories(repositories), &mut |progress| {
                if verbose {
                    let _ = writeln!(err, "scan: {progress}");
                }
            })
            .await
            .map_err(|e| format!("scan failed, nothing was deleted: {e}"))?;
        let plan = plan(
            &inventory,
            &Policy::keep_newest(args.keep),
            OffsetDateTime::now_utc(),
        );
        report::print_plan(&plan, out).map_err(io)?;

        let deletes = plan.totals().deleted_manifests;
        if deletes == 0 {
            writeln!(out, "Nothing to delete.").map_err(io)?;
            return Ok(ExitCode::SUCCESS);
        }
        if args.dry_run {
            writeln!(out, "Dry run: nothing was deleted.").map_err(io)?;
            return Ok(ExitCode::SUCCESS);
        }
        if !args.assume_yes() {
            write!(
                out,
                "Delete {deletes} manifests (and every tag on them) from {}? This cannot be undone. [y/N] ",
                client.registry()
            )
            .map_err(io)?;
            out.flush().map_err(io)?;
            let mut answer = String::new();
            input
                .read_line(&mut answer)
                .map_err(|e| format!("reading the answer: {e}"))?;
            if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
                writeln!(out, "Nothing deleted.").map_err(io)?;
                return Ok(ExitCode::SUCCESS);
            }
        }
        let report = client
            .apply(&plan, &mut |_, entry| {
                let _ = report::print_outcome(entry, out);
            })
            .await;
        report::print_summary(&report, out).map_err(io)?;
        let counts = report.counts();
        if counts.deleted > 0 {
            writeln!(out, "\n{GARBAGE_COLLECT_HINT}").map_err(io)?;
        }
        Ok(if counts.failed > 0 {
            ExitCode::from(EXIT_FAILED_DELETES)
        } else {
            ExitCode::SUCCESS
        })
    })
}
