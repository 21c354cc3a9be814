//! testkit's fixtures checked against the real Debian binaries, in one
//! test binary (one link step): a module per area, named as the test file
//! it was.

mod cors;
mod fixture;
mod fixtures;
mod latency;
mod manifest_kinds;
mod proxy;
mod seeder_bearer;
mod token;
mod untag_fixtures;
mod zoo;
