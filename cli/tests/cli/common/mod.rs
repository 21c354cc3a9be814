//! What the tests against real servers share: the basic-auth account, the
//! registry fixture (testkit's [`Fixture`]), the one way to run the
//! `cleanreg` binary ([`cleanreg`]), and the one way to make a core client
//! over the native transport ([`client`]).

#![allow(dead_code)]

use cleanreg::NativeTransport;
use cleanreg_core::{Client, Credentials, RegistryUrl};
use cleanreg_testkit::{Fixture, RegistryOptions};

pub use cleanreg_testkit::{Cleanreg, Ran, arg, outcomes, planned};

pub mod refusals;

pub const USER: &str = "admin";
pub const PASSWORD: &str = "correct horse";

/// A registry with `options`, seeded with two repositories of five images
/// each (the newest built a day ago).
pub fn seeded(options: RegistryOptions) -> Fixture {
    Fixture::with(options).two_repos().start()
}

/// Basic auth as [`USER`] with [`PASSWORD`].
pub fn with_auth() -> RegistryOptions {
    RegistryOptions {
        basic_auth: Some((USER.into(), PASSWORD.into())),
        ..RegistryOptions::default()
    }
}

/// [`USER`]'s credentials for a core client.
pub fn credentials() -> Credentials {
    Credentials::new(USER, PASSWORD)
}

/// A new user of this build's `cleanreg` binary, with directories of its own.
pub fn cleanreg() -> Cleanreg {
    Cleanreg::new(env!("CARGO_BIN_EXE_cleanreg"))
}

/// A core client of `url` over the native transport (no proxy), with
/// `credentials`; callers chain `with_retry` and the like.
pub fn client(url: &str, credentials: Option<Credentials>) -> Client<NativeTransport> {
    client_over(NativeTransport::new(false), url, credentials)
}

/// [`client`] over a transport of the caller's (TLS options, a wrapper).
pub fn client_over<T: cleanreg_core::Transport>(
    transport: T,
    url: &str,
    credentials: Option<Credentials>,
) -> Client<T> {
    Client::new(
        transport,
        RegistryUrl::parse(url).expect("a registry URL"),
        credentials,
    )
}

/// Runs a future of the core client to its end.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    futures_executor::block_on(future)
}
