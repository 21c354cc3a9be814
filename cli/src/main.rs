use std::io;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cleanreg::Args::parse_from_env();
    let mut input = io::stdin().lock();
    cleanreg::run(&args, &mut input, &mut io::stdout(), &mut io::stderr())
}
