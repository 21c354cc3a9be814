//! The dashboard's end-to-end scenarios in one test binary (one link step),
//! a module per scenario, named as the test file it was. Each starts its own
//! fixtures on free loopback ports and writes its screenshots and downloads
//! to a directory of its own, so scenarios run side by side.

mod cache;
mod cancel;
mod chaos;
mod connect;
mod cross_origin;
mod dashboard;
mod deploy;
mod hostile;
mod imported_policy;
mod in_use;
mod plan_export;
mod plugin;
mod policy_import;
mod referrers;
mod responsive;
mod restore;
mod retry_failed;
mod scoped_tokens;
mod secrets;
mod token_auth;
mod untagged;
