//! One set-up for the tests that need a registry: its auth (open, basic, or
//! token through testkit's token server), a seeded scenario, and nginx in
//! front serving the dashboard, started in the right order. The CLI's and
//! the dashboard's tests build theirs here instead of by hand.

use std::io;
use std::path::PathBuf;

use time::OffsetDateTime;

use crate::deploy;
use crate::nginx::{Nginx, NginxOptions, free_loopback_port};
use crate::registry::{Registry, RegistryOptions, TokenAuth};
use crate::scenario::{SeededRepo, Zoo, assert_newest_remain, protocol_zoo, two_repos_five_images};
use crate::seeder::Seeder;
use crate::token::{TokenServer, TokenServerOptions};

/// What the registry holds before the test starts.
#[derive(Debug, Clone, Copy)]
pub enum Seed {
    /// Nothing: the test pushes its own images.
    Nothing,
    /// [`two_repos_five_images`] with its newest image built at `newest`.
    TwoRepos { newest: OffsetDateTime },
    /// [`protocol_zoo`] as of `now`.
    Zoo { now: OffsetDateTime },
}

/// The page nginx serves in front of the registry.
#[derive(Debug, Clone)]
pub enum Page {
    /// nginx's generated server: `root` at `/`, the registry at `/v2/`
    /// (with token auth also the token server at `/token`, and the realm
    /// on the page's origin). `hide_www_authenticate` as in
    /// [`NginxOptions`].
    Dashboard {
        root: PathBuf,
        hide_www_authenticate: bool,
    },
    /// `deploy/same-origin.conf` as shipped: `dist` at `/cleanreg/`, the
    /// stand-in registry UI at `/`, the registry at `/v2/`.
    SameOrigin { dist: PathBuf },
    /// `root` alone on an origin of its own; the registry sends CORS
    /// headers for that origin (`RegistryOptions::cors_origin`).
    Alone { root: PathBuf },
    /// `deploy/cleanreg-page.conf` on an origin of its own, allowed to
    /// connect to the registry, which sends the headers of
    /// `deploy/registry-cors.yml` for the page's origin.
    DeployPage { dist: PathBuf },
}

impl Page {
    /// nginx serving this page with `upstream` as the registry, for a
    /// front (a proxy, a stand-in registry) between the page and a
    /// registry. Only the kinds that need no origin chosen in advance
    /// ([`Page::Dashboard`] and [`Page::SameOrigin`]).
    pub fn serve(&self, upstream: &str) -> io::Result<Nginx> {
        Nginx::start(self.nginx_options(None, upstream, None))
    }

    /// Whether the registry must know the page's origin before it starts.
    fn origin_first(&self) -> bool {
        matches!(self, Page::Alone { .. } | Page::DeployPage { .. })
    }

    fn nginx_options(
        &self,
        port: Option<u16>,
        upstream: &str,
        token_upstream: Option<String>,
    ) -> NginxOptions {
        match self {
            Page::Dashboard {
                root,
                hide_www_authenticate,
            } => NginxOptions {
                port,
                root: root.clone(),
                upstream: Some(upstream.to_owned()),
                token_upstream,
                hide_www_authenticate: *hide_www_authenticate,
                site: None,
                tls: None,
            },
            Page::SameOrigin { dist } => NginxOptions {
                port,
                site: Some(deploy::same_origin(
                    &dist.to_string_lossy(),
                    &deploy::registry_ui_site().to_string_lossy(),
                    upstream,
                )),
                ..NginxOptions::default()
            },
            Page::Alone { root } => NginxOptions {
                port,
                root: root.clone(),
                ..NginxOptions::default()
            },
            Page::DeployPage { dist } => NginxOptions {
                port,
                site: Some(deploy::cleanreg_page(&dist.to_string_lossy(), upstream)),
                ..NginxOptions::default()
            },
        }
    }

    /// Where the dashboard is under nginx's origin.
    fn path(&self) -> &'static str {
        match self {
            Page::SameOrigin { .. } => "/cleanreg/",
            _ => "/",
        }
    }
}

/// How to start a [`Fixture`]; from [`Fixture::with`] or [`Fixture::open`].
#[derive(Debug, Clone)]
pub struct FixtureBuilder {
    options: RegistryOptions,
    tokens: Option<(TokenServerOptions, (String, String))>,
    seed: Seed,
    page: Option<Page>,
}

/// A running registry (and what else was asked for), seeded.
#[derive(Debug)]
pub struct Fixture {
    /// nginx in front, when a [`Page`] was asked for.
    pub nginx: Option<Nginx>,
    pub registry: Registry,
    /// The token server, with token auth.
    pub tokens: Option<TokenServer>,
    /// Pushes and reads as the registry's admin (basic auth: its user;
    /// token auth: the account given to [`FixtureBuilder::token_auth`]).
    pub seeder: Seeder,
    /// With [`Seed::TwoRepos`]: the seeded repositories.
    pub repos: Vec<SeededRepo>,
    /// With [`Seed::Zoo`]: the zoo and its expectations.
    pub zoo: Option<Zoo>,
    page_path: &'static str,
    cors_origin: Option<String>,
}

/// Start attempts when the page's port is chosen before the registry starts
/// and another process may take it meanwhile.
const START_ATTEMPTS: usize = 4;

impl Fixture {
    /// A registry with these options (basic auth through
    /// `options.basic_auth`); nothing seeded, no page.
    pub fn with(options: RegistryOptions) -> FixtureBuilder {
        FixtureBuilder {
            options,
            tokens: None,
            seed: Seed::Nothing,
            page: None,
        }
    }

    /// An open registry with deletes enabled.
    pub fn open() -> FixtureBuilder {
        Fixture::with(RegistryOptions::default())
    }

    /// The registry's base URL.
    pub fn url(&self) -> String {
        self.registry.url()
    }

    /// nginx's origin (panics without a page).
    pub fn origin(&self) -> String {
        self.nginx.as_ref().expect("the fixture has a page").url()
    }

    /// The dashboard's URL under nginx, e.g. `http://127.0.0.1:1234/cleanreg/`.
    pub fn page_url(&self) -> String {
        format!("{}{}", self.origin(), self.page_path)
    }

    /// The origin the registry sends CORS headers for (`cors_origin`), if any.
    pub fn registry_cors_origin(&self) -> Option<String> {
        self.cors_origin.clone()
    }

    /// The token server (panics without token auth).
    pub fn tokens(&self) -> &TokenServer {
        self.tokens.as_ref().expect("the fixture has token auth")
    }

    /// The zoo (panics unless it was seeded).
    pub fn zoo(&self) -> &Zoo {
        self.zoo.as_ref().expect("the fixture seeded the zoo")
    }

    /// The seeded repository `name`.
    pub fn repo(&self, name: &str) -> &SeededRepo {
        self.repos
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("no seeded repository {name}"))
    }

    /// Asserts through the registry API that exactly the `keep` newest
    /// images of every seeded repository remain, with their tags.
    pub fn assert_newest_remain(&self, keep: usize) {
        assert_newest_remain(&self.seeder, &self.repos, keep);
    }
}

impl FixtureBuilder {
    /// Token auth (`auth: token`) against a testkit token server started
    /// with `options`; `admin` (user, password), one of its users, seeds.
    /// With a page the realm is on the page's origin (nginx proxies
    /// `/token`), else the token server's own.
    pub fn token_auth(mut self, options: TokenServerOptions, admin: (&str, &str)) -> Self {
        self.tokens = Some((options, (admin.0.to_owned(), admin.1.to_owned())));
        self
    }

    /// Writes the registry's access log ([`Registry::log_path`]).
    pub fn access_log(mut self) -> Self {
        self.options.access_log = true;
        self
    }

    /// Seeds `seed`.
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = seed;
        self
    }

    /// Seeds two repositories of five images, the newest built a day ago.
    pub fn two_repos(self) -> Self {
        let newest = OffsetDateTime::now_utc() - time::Duration::days(1);
        self.seed(Seed::TwoRepos { newest })
    }

    /// Seeds the protocol zoo as of now.
    pub fn zoo(self) -> Self {
        self.seed(Seed::Zoo {
            now: OffsetDateTime::now_utc(),
        })
    }

    /// Serves `page` through nginx in front of the registry.
    pub fn page(mut self, page: Page) -> Self {
        self.page = Some(page);
        self
    }

    /// Starts everything and seeds; panics with the cause when anything
    /// fails to start.
    pub fn start(self) -> Fixture {
        self.try_start().expect("start the test fixture")
    }

    /// Starts the token server, the registry and nginx (retrying with
    /// another port when the page's port, chosen first, was taken), then
    /// seeds through the registry (with token auth the seeder follows the
    /// realm, through nginx when there is a page).
    pub fn try_start(&self) -> io::Result<Fixture> {
        let mut last = None;
        let attempts = match &self.page {
            Some(page) if page.origin_first() || self.tokens.is_some() => START_ATTEMPTS,
            _ => 1,
        };
        for _ in 0..attempts {
            match self.start_servers()? {
                Ok(fixture) => return self.seeded(fixture),
                Err(port_taken) => last = Some(port_taken),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no start attempt was made")))
    }

    /// Outer error: fatal. Inner error: the page's port was taken.
    fn start_servers(&self) -> io::Result<io::Result<Fixture>> {
        let mut options = self.options.clone();
        let tokens = match &self.tokens {
            Some((token_options, _)) => Some(TokenServer::start(token_options.clone())?),
            None => None,
        };
        let chosen = match &self.page {
            Some(page) if page.origin_first() || tokens.is_some() => Some(free_loopback_port()?),
            _ => None,
        };
        let page_origin = chosen.map(|port| format!("http://127.0.0.1:{port}"));
        if let Some(tokens) = &tokens {
            let auth = tokens.registry_auth();
            options.token_auth = Some(match &page_origin {
                Some(origin) => TokenAuth {
                    realm: format!("{origin}/token"),
                    ..auth
                },
                None => auth,
            });
        }
        match (&self.page, &page_origin) {
            (Some(Page::Alone { .. }), Some(origin)) => options.cors_origin = Some(origin.clone()),
            (Some(Page::DeployPage { .. }), Some(origin)) => {
                options.extra_headers = deploy::registry_cors_headers(origin);
            }
            _ => {}
        }
        let cors_origin = options.cors_origin.clone();
        let registry = Registry::start(options)?;
        let nginx = match &self.page {
            None => None,
            Some(page) => {
                let token_upstream = tokens.as_ref().map(|tokens| {
                    tokens
                        .realm()
                        .strip_suffix("/token")
                        .expect("the realm ends in /token")
                        .to_owned()
                });
                let started =
                    Nginx::start(page.nginx_options(chosen, &registry.url(), token_upstream));
                match started {
                    Ok(nginx) => Some(nginx),
                    Err(err)
                        if chosen.is_some()
                            && err.to_string().contains("Address already in use") =>
                    {
                        return Ok(Err(err));
                    }
                    Err(err) => return Err(err),
                }
            }
        };
        let credentials = match &self.tokens {
            Some((_, admin)) => Some(admin.clone()),
            None => registry.credentials(),
        };
        let seeder = Seeder::new(&registry.seed_url(), credentials);
        Ok(Ok(Fixture {
            nginx,
            registry,
            tokens,
            seeder,
            repos: Vec::new(),
            zoo: None,
            page_path: self.page.as_ref().map_or("/", Page::path),
            cors_origin,
        }))
    }

    fn seeded(&self, mut fixture: Fixture) -> io::Result<Fixture> {
        match self.seed {
            Seed::Nothing => {}
            Seed::TwoRepos { newest } => {
                fixture.repos =
                    two_repos_five_images(&fixture.seeder, newest).map_err(io::Error::other)?;
            }
            Seed::Zoo { now } => {
                fixture.zoo = Some(protocol_zoo(&fixture.seeder, now).map_err(io::Error::other)?);
            }
        }
        Ok(fixture)
    }
}
