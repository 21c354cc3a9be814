//! The `cleanreg` crate's tests against real servers, in one test binary
//! (one link step): a module per area, named as the test file it was, and
//! `common` for the set-up and the binary runner they share.

mod common;

mod apply_control;
mod chaos;
mod cli;
mod client;
mod cron;
mod distribution3;
mod faults;
mod flags;
mod imported;
mod in_use;
mod races;
mod realm;
mod referrers;
mod remove_tags;
mod rescan;
mod restore;
mod scoped_tokens;
mod tls;
mod token_auth;
mod untagged;
mod untagged_cli;
mod zoo;
