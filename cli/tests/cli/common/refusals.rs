//! Runs the binary must refuse, written as tables: each row names its
//! case, its arguments (and environment), the exit status and the texts its
//! standard error must hold or no stream may show; one function runs a
//! table and a failing row names itself.

use super::Ran;

/// A run the binary must refuse, as a row of a test's table: its arguments
/// (and environment), the exit status, the texts its standard error must
/// hold and those that must show nowhere.
pub struct Refusal {
    case: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    exit: i32,
    stderr: Vec<String>,
    nowhere: Vec<String>,
}

/// A row of a table of refusals: `cleanreg WORDS` (split at whitespace)
/// exits `exit` and its standard error holds each of `stderr`.
pub fn refusal(case: &str, words: &str, exit: i32, stderr: &[&str]) -> Refusal {
    let args: Vec<&str> = words.split_whitespace().collect();
    refusal_of(case, &args, exit, stderr)
}

/// [`refusal`] with the arguments one by one (one holds a space).
pub fn refusal_of(case: &str, args: &[&str], exit: i32, stderr: &[&str]) -> Refusal {
    Refusal {
        case: case.to_owned(),
        args: args.iter().map(|arg| (*arg).to_owned()).collect(),
        env: Vec::new(),
        exit,
        stderr: stderr.iter().map(|text| (*text).to_owned()).collect(),
        nowhere: Vec::new(),
    }
}

impl Refusal {
    /// The run also has these variables.
    pub fn env(mut self, env: &[(&str, &str)]) -> Refusal {
        self.env = env
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        self
    }

    /// None of `texts` shows on either stream.
    pub fn nowhere(mut self, texts: &[&str]) -> Refusal {
        self.nowhere = texts.iter().map(|text| (*text).to_owned()).collect();
        self
    }
}

/// Runs every row of `table` and checks each as it says; a failing row
/// names itself. Returns the runs, in the table's order.
pub fn assert_refused(table: &[Refusal]) -> Vec<Ran> {
    table
        .iter()
        .map(|row| {
            let args: Vec<&str> = row.args.iter().map(String::as_str).collect();
            let env: Vec<(&str, &str)> = row
                .env
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str()))
                .collect();
            let ran = super::cleanreg().run_with(&args, &env, "");
            let case = &row.case;
            assert_eq!(
                ran.code,
                Some(row.exit),
                "refusal {case:?}: exit status\n{}",
                ran.shown()
            );
            for text in &row.stderr {
                assert!(
                    ran.stderr_has(text),
                    "refusal {case:?}: stderr names {text:?}\n{}",
                    ran.shown()
                );
            }
            for text in &row.nowhere {
                assert!(
                    !ran.either_has(text),
                    "refusal {case:?}: {text:?} shows\n{}",
                    ran.shown()
                );
            }
            ran
        })
        .collect()
}
