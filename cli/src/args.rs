//! The command line, compatible with the original cleanreg's flags.

use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "cleanreg",
    version,
    about = "Deletes all but the newest images of Docker/OCI registry repositories, safely.",
    after_help = "The original cleanreg's two-letter flag -pw is accepted too. Deleting frees \
                  space only after the registry's garbage collection; cleanreg prints the command."
)]
pub struct Args {
    /// Registry to clean, e.g. http://127.0.0.1:5000
    #[arg(short = 'r', long = "registry", value_name = "URL")]
    pub registry: String,

    /// Repository to clean (repeat for several)
    #[arg(short = 'n', long = "reponame", value_name = "REPO", required = true)]
    pub repositories: Vec<String>,

    /// Images (distinct manifests, not tags) to keep per repository, newest first
    #[arg(short = 'k', long = "keepimages", value_name = "N")]
    pub keep: usize,

    /// Basic auth user
    #[arg(short = 'u', long = "basicauth-user", value_name = "USER")]
    pub user: Option<String>,

    /// Basic auth password (also -pw; better: the CLEANREG_PASSWORD environment variable)
    #[arg(
        long = "basicauth-pw",
        value_name = "PASSWORD",
        env = "CLEANREG_PASSWORD",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    pub password: Option<String>,

    /// Answer yes to the confirmation question
    #[arg(short = 'y', long = "assume-yes", visible_alias = "yes")]
    pub assume_yes: bool,

    /// Deprecated alias of -y, kept for the original's scripts
    #[arg(short = 'q', long = "quiet", hide = true)]
    pub quiet: bool,

    /// Print the plan and stop; nothing is deleted
    #[arg(long = "dry-run")]
    pub dry_run: bool,

    /// Reach the registry through the proxy of HTTP_PROXY/HTTPS_PROXY
    #[arg(short = 'p', long = "proxy")]
    pub proxy: bool,

    /// More output (repeatable)
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Requests kept in flight while reading the registry.
    #[arg(
        short = 'w',
        long = "metadata-workers",
        value_name = "N",
        default_value_t = cleanreg_core::DEFAULT_CONCURRENCY,
        value_parser = clap::value_parser!(usize)
    )]
    pub workers: usize,
}

/// The original's multi-letter short flags, which clap cannot declare.
const LEGACY_FLAGS: [(&str, &str); 1] = [("-pw", "--basicauth-pw")];

/// Flags whose next argument is a value, never a flag to rewrite.
const TAKES_VALUE: [&str; 12] = [
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
];

/// Rewrites `-pw` into its long form before clap reads the arguments.
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
        Args::try_parse_from(rewrite_legacy_flags(words))
    }

    #[test]
    fn accepts_the_original_flags() {
        let args = parse("-r http://r:5000 -n team/app -k 3 -u admin -pw -pw -y -vv").unwrap();
        assert_eq!(args.registry, "http://r:5000");
        assert_eq!(args.repositories, ["team/app"]);
        assert_eq!(args.keep, 3);
        assert_eq!(args.user.as_deref(), Some("admin"));
        assert_eq!(
            args.password.as_deref(),
            Some("-pw"),
            "a value is never rewritten"
        );
        assert!(args.assume_yes() && args.verbose == 2);
        assert!(parse("-r x -n a -k 1 -q").unwrap().assume_yes());
        assert!(parse("-r x -n a -k 1 --yes").unwrap().assume_yes());
    }

    #[test]
    fn requires_a_registry_a_repository_and_a_count() {
        assert!(parse("-n a -k 1").is_err());
        assert!(parse("-r x -k 1").is_err());
        assert!(parse("-r x -n a").is_err());
        assert!(parse("-r x -n a -k many").is_err());
    }
}
