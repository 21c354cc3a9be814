//! The command line: every flag of the original cleanreg (v0.3 to v0.8),
//! with the same meaning, and cleanreg's own long options.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "cleanreg",
    version,
    about = "Deletes all but the newest images of Docker/OCI registry repositories, safely.",
    after_help = "The original cleanreg's multi-letter flags -pw, -cf, -re and -sv are accepted \
                  too. Deleting frees space only after the registry's garbage collection; \
                  cleanreg prints the command.\n\nExit status: 0 done (or nothing to do), \
                  1 error (nothing deleted after it), 2 usage error, 3 some deletes or \
                  restores failed (the report says which)."
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Registry to clean, e.g. http://127.0.0.1:5000
    #[arg(short = 'r', long = "registry", value_name = "URL", global = true)]
    pub registry: Option<String>,

    /// Repository to clean, optionally limited to a tag (a regular
    /// expression with -re); repeat for several
    #[arg(short = 'n', long = "reponame", value_name = "REPO[:TAG]")]
    pub repositories: Vec<String>,

    /// Images (distinct manifests, not tags) to keep per repository, newest first
    #[arg(short = 'k', long = "keepimages", value_name = "N")]
    pub keep: Option<usize>,

    /// Also keep images created since DATE (YYYY-MM-DD, YYYYMMDD, with an
    /// optional Thh:mm:ss, UTC; or RFC 3339)
    #[arg(
        short = 's',
        long = "since",
        visible_short_alias = 'd',
        value_name = "DATE"
    )]
    pub since: Option<String>,

    /// Repositories with their own settings: `REPO COUNT` lines, or the
    /// YAML `REPO: {tag, keepimages, keepsince}`
    #[arg(short = 'f', long = "reposfile", value_name = "FILE")]
    pub reposfile: Option<PathBuf>,

    /// Clean every repository of the catalog with -k/-s; -n and -f entries
    /// override per repository (also -cf)
    #[arg(long = "clean-full-catalog")]
    pub full_catalog: bool,

    /// The tag of -n REPO:TAG and the file's `tag:` are regular expressions
    /// matched against whole tags (also -re)
    #[arg(long = "regex")]
    pub regex: bool,

    /// Keep any digest that several tags of its repository point at
    #[arg(short = 'i', long = "ignore-ref-tags")]
    pub ignore_ref_tags: bool,

    /// Retention policy file: cleanreg's TOML or JSON, or a GitLab, ECR,
    /// Harbor, zot or acr purge policy to import (told from the content;
    /// the import's report goes to stderr); replaces -k, -s, -f, -re, -i
    /// and --delete-untagged
    #[arg(long = "policy", value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Read --policy as this format instead of telling it from the content:
    /// toml, json (cleanreg's own), or another tool's policy to import:
    /// gitlab, ecr, harbor, zot, acr
    #[arg(long = "policy-format", value_name = "NAME", requires = "policy", value_parser = clap::builder::PossibleValuesParser::new(cleanreg_core::POLICY_FORMAT_NAMES))]
    pub policy_format: Option<String>,

    /// Never delete or untag what this file names: image references one a
    /// line (host/repo:tag, host/repo@sha256:...) or the JSON of `kubectl
    /// get pods -A -o json`; references to this registry only (repeatable)
    #[arg(long = "in-use", value_name = "FILE")]
    pub in_use: Vec<PathBuf>,

    /// Another name of this registry in the --in-use files, as their
    /// references write its host (registry.example.org:5000): a reference
    /// to it is this registry's too (repeatable)
    #[arg(long = "in-use-host", value_name = "HOST", requires = "in_use")]
    pub in_use_hosts: Vec<String>,

    /// Also delete manifests no tag points at (a moving tag such as `main`
    /// leaves the previous one behind), found through the history of
    /// earlier scans or --storage, with their children and attachments
    #[arg(long = "delete-untagged")]
    pub delete_untagged: bool,

    /// The registry's filesystem storage (its `rootdirectory`), read-only:
    /// lists every manifest of a repository, tagged or not, and serves
    /// manifests without a request
    #[arg(long = "storage", value_name = "DIR")]
    pub storage: Option<PathBuf>,

    /// Keep the scan history (what earlier scans saw, to find manifests
    /// whose tag moved on) in DIR instead of $XDG_STATE_HOME/cleanreg/history
    /// or ~/.local/state/cleanreg/history
    #[arg(long = "history-dir", value_name = "DIR")]
    pub history_dir: Option<PathBuf>,

    /// Neither read nor write the scan history
    #[arg(long = "no-history", conflicts_with = "history_dir")]
    pub no_history: bool,

    /// Basic auth user
    #[arg(
        short = 'u',
        long = "basicauth-user",
        value_name = "USER",
        global = true
    )]
    pub user: Option<String>,

    /// Basic auth password (also -pw); better: the CLEANREG_PASSWORD
    /// environment variable or --password-stdin, which keep it out of `ps`
    #[arg(
        long = "basicauth-pw",
        value_name = "PASSWORD",
        env = "CLEANREG_PASSWORD",
        hide_env_values = true,
        allow_hyphen_values = true,
        global = true
    )]
    pub password: Option<Password>,

    /// Read the password from the first line of standard input
    #[arg(long = "password-stdin", global = true, conflicts_with = "password")]
    pub password_stdin: bool,

    /// CA certificate (PEM) for a registry whose certificate a private CA signed
    #[arg(short = 'c', long = "cacert", value_name = "FILE", global = true)]
    pub cacert: Option<PathBuf>,

    /// Accept any TLS certificate (also -sv); for tests only
    #[arg(long = "skip-tls-verify", global = true)]
    pub skip_tls_verify: bool,

    /// Reach the registry through the proxy of HTTPS_PROXY/HTTP_PROXY
    /// (honouring NO_PROXY); without it the registry is reached directly
    #[arg(short = 'p', long = "proxy", global = true)]
    pub proxy: bool,

    /// Answer yes to the confirmation question
    #[arg(short = 'y', long = "assume-yes", visible_alias = "yes", global = true)]
    pub assume_yes: bool,

    /// Deprecated alias of -y, kept for the original's scripts
    #[arg(short = 'q', long = "quiet", hide = true, global = true)]
    pub quiet: bool,

    /// More output (repeatable)
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Requests kept in flight while reading the registry
    #[arg(
        short = 'w',
        long = "metadata-workers",
        value_name = "N",
        default_value_t = cleanreg_core::DEFAULT_CONCURRENCY,
        value_parser = clap::value_parser!(usize),
        global = true
    )]
    pub workers: usize,

    /// Keep the scan cache (manifests and build dates by digest) in DIR
    /// instead of $XDG_CACHE_HOME/cleanreg or ~/.cache/cleanreg
    #[arg(long = "cache-dir", value_name = "DIR", global = true)]
    pub cache_dir: Option<PathBuf>,

    /// Read everything from the registry and keep no scan cache
    #[arg(long = "no-cache", global = true, conflicts_with = "cache_dir")]
    pub no_cache: bool,

    /// Bound of the scan cache in MiB; after a scan the oldest entries go
    #[arg(
        long = "cache-size",
        value_name = "MIB",
        default_value_t = crate::cache::DEFAULT_CACHE_MIB,
        global = true
    )]
    pub cache_mib: u64,

    /// Print the plan and stop; nothing is deleted
    #[arg(long = "dry-run")]
    pub dry_run: bool,

    /// Print the plan and the outcomes as one JSON document on stdout
    #[arg(long = "json", global = true)]
    pub json: bool,

    /// Save the plan (JSON) to FILE, for --apply-plan
    #[arg(long = "plan-out", value_name = "FILE")]
    pub plan_out: Option<PathBuf>,

    /// Apply a plan saved by --plan-out or exported by the dashboard,
    /// re-checking every digest against the registry first
    #[arg(long = "apply-plan", value_name = "FILE", conflicts_with_all = ["repositories", "reposfile", "full_catalog", "policy", "keep", "since", "regex", "ignore_ref_tags", "plan_out", "delete_untagged", "history_dir", "no_history", "in_use"])]
    pub apply_plan: Option<PathBuf>,

    /// Where to write the recovery file before deleting; an existing FILE is
    /// never replaced (the run stops before any delete). Default: a new
    /// file of its own in the recovery directory
    #[arg(long = "recovery-file", value_name = "FILE")]
    pub recovery_file: Option<PathBuf>,

    /// The recovery directory: where each run writes its recovery file
    /// unless --recovery-file is given, and what `restore --list` lists
    /// (default $XDG_STATE_HOME/cleanreg/recovery or
    /// ~/.local/state/cleanreg/recovery)
    #[arg(long = "recovery-dir", value_name = "DIR", global = true)]
    pub recovery_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Put back the manifests and tags of a recovery file (works until the
    /// registry's garbage collection removes their blobs)
    Restore {
        /// The recovery file written before a delete
        #[arg(required_unless_present = "list")]
        file: Option<PathBuf>,

        /// List the recovery files of the recovery directory (when each was
        /// planned, its registry, what it holds) and restore nothing
        #[arg(long = "list", conflicts_with = "file")]
        list: bool,

        /// With --list: the registry's filesystem storage (its
        /// `rootdirectory`), read-only, to say whether each file's blobs
        /// are still there
        #[arg(long = "storage", value_name = "DIR", conflicts_with = "file")]
        storage: Option<PathBuf>,
    },
}

/// A password from the command line or the environment; `Debug` prints
/// `***` so printing the arguments never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::str::FromStr for Password {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Password, Self::Err> {
        Ok(Password(text.to_owned()))
    }
}

/// The original's multi-letter short flags, which clap cannot declare.
const LEGACY_FLAGS: [(&str, &str); 4] = [
    ("-pw", "--basicauth-pw"),
    ("-cf", "--clean-full-catalog"),
    ("-re", "--regex"),
    ("-sv", "--skip-tls-verify"),
];

/// Flags whose next argument is a value, never a flag to rewrite.
const TAKES_VALUE: [&str; 29] = [
    "-w",
    "--metadata-workers",
    "-r",
    "--registry",
    "-n",
    "--reponame",
    "-k",
    "--keepimages",
    "-u",
    "--basicauth-user",
    "-pw",
    "--basicauth-pw",
    "-s",
    "-d",
    "--since",
    "-f",
    "--reposfile",
    "-c",
    "--cacert",
    "--policy",
    "--policy-format",
    "--in-use-host",
    "--plan-out",
    "--apply-plan",
    "--recovery-file",
    "--recovery-dir",
    "--storage",
    "--history-dir",
    "restore",
];

/// Rewrites the original's multi-letter flags into their long forms before
/// clap reads the arguments; a value is never rewritten.
pub fn rewrite_legacy_flags(args: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut value_next = false;
    let mut after_separator = false;
    for arg in args {
        let rewritten = if value_next || after_separator {
            arg.clone()
        } else {
            LEGACY_FLAGS
                .iter()
                .find(|(short, _)| *short == arg)
                .map_or_else(|| arg.clone(), |(_, long)| (*long).to_owned())
        };
        value_next = !value_next && !after_separator && TAKES_VALUE.contains(&arg.as_str());
        after_separator |= arg == "--";
        out.push(rewritten);
    }
    out
}

impl Args {
    pub fn parse_from_env() -> Args {
        Args::parse_from(rewrite_legacy_flags(std::env::args()))
    }

    /// Parses a command line (program name first), for tests and callers.
    pub fn try_parse_words<I: IntoIterator<Item = String>>(words: I) -> Result<Args, clap::Error> {
        Args::try_parse_from(rewrite_legacy_flags(words))
    }

    pub fn assume_yes(&self) -> bool {
        self.assume_yes || self.quiet
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Args, clap::Error> {
        let words = std::iter::once("cleanreg".to_owned())
            .chain(line.split_whitespace().map(str::to_owned));
        Args::try_parse_words(words)
    }

    #[test]
    fn accepts_every_flag_of_the_original() {
        let args = parse(
            "-r http://r:5000 -n team/app:ci-.* -re -k 3 -s 20260101 -f repos.yml -cf -c ca.pem \
             -sv -i -u admin -pw -pw -y -vv -p -w 4",
        )
        .unwrap();
        assert_eq!(args.registry.as_deref(), Some("http://r:5000"));
        assert_eq!(args.repositories, ["team/app:ci-.*"]);
        assert_eq!(args.keep, Some(3));
        assert_eq!(args.since.as_deref(), Some("20260101"));
        assert_eq!(args.reposfile, Some(PathBuf::from("repos.yml")));
        assert!(args.full_catalog && args.regex && args.skip_tls_verify && args.ignore_ref_tags);
        assert_eq!(args.cacert, Some(PathBuf::from("ca.pem")));
        assert_eq!(args.user.as_deref(), Some("admin"));
        assert_eq!(
            args.password.as_ref().map(Password::expose),
            Some("-pw"),
            "a value is never rewritten"
        );
        assert!(
            !format!("{args:?}").contains("-pw\""),
            "Debug hides the password"
        );
        assert!(args.assume_yes() && args.verbose == 2 && args.proxy);
        assert_eq!(args.workers, 4);
        assert!(parse("-r x -n a -k 1 -q").unwrap().assume_yes());
        assert!(parse("-r x -n a -k 1 --yes").unwrap().assume_yes());
        assert_eq!(
            parse("-r x -n a -d 2026-01-01").unwrap().since.as_deref(),
            Some("2026-01-01")
        );
    }

    #[test]
    fn the_untagged_flags_and_their_values() {
        let args =
            parse("-r x -n a -k 1 --delete-untagged --storage /srv/registry --history-dir h")
                .unwrap();
        assert!(args.delete_untagged && !args.no_history);
        assert_eq!(args.storage, Some(PathBuf::from("/srv/registry")));
        assert_eq!(args.history_dir, Some(PathBuf::from("h")));
        assert!(parse("-r x -n a -k 1 --no-history").unwrap().no_history);
        assert!(parse("-r x -n a -k 1 --storage").is_err());
    }

    #[test]
    fn restore_is_a_subcommand_that_takes_the_connection_flags() {
        let args = parse("restore saved.json -r http://r:5000 -u admin -y").unwrap();
        assert!(
            matches!(args.command, Some(Command::Restore { ref file, list: false, .. }) if file.as_deref() == Some(std::path::Path::new("saved.json")))
        );
        assert_eq!(args.user.as_deref(), Some("admin"));
        let listing = parse("restore --list --recovery-dir /srv/recovery").unwrap();
        assert!(matches!(
            listing.command,
            Some(Command::Restore {
                file: None,
                list: true,
                storage: None,
            })
        ));
        assert!(parse("restore saved.json --storage /srv/registry").is_err());
        assert_eq!(listing.recovery_dir, Some(PathBuf::from("/srv/recovery")));
        assert!(parse("restore").is_err(), "a file or --list");
        assert!(parse("restore saved.json --list").is_err());
    }

    #[test]
    fn rejects_what_cannot_mean_anything() {
        assert!(parse("-r x -n a -k many").is_err());
        assert!(parse("-r x --apply-plan p.json -k 3").is_err());
        assert!(parse("-r x --apply-plan p.json -re").is_err());
        assert!(parse("-r x --apply-plan p.json -i").is_err());
        assert!(parse("-r x --apply-plan p.json --plan-out q.json").is_err());
        assert!(parse("-r x --apply-plan p.json --delete-untagged").is_err());
        assert!(parse("-r x -n a -k 1 --no-history --history-dir h").is_err());
        assert!(parse("-r x -n a -k 1 -pw a --password-stdin").is_err());
    }
}
