//! A private Distribution 2.8 registry (Debian's `docker-registry`) on a free
//! loopback port, so tests exercise the real server instead of a mock.
//!
//! Its config is generated per start: open, htpasswd, or `auth: token`
//! trusting testkit's token server; optionally with TLS, extra
//! `http.headers` lines (as `deploy/registry-cors.yml` adds), an access log
//! (the benchmark counts requests from it), and an existing storage
//! directory to serve (typically a copy of another registry's).

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::process::{self, NotReady, quote};
use crate::tls::{TestTls, TlsFiles};

/// How to configure the registry.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// Username and password for htpasswd basic auth; None = open registry.
    /// Exclusive with `token_auth`.
    pub basic_auth: Option<(String, String)>,
    /// Bearer token auth (`auth: token`) against a token server such as
    /// [`crate::TokenServer`] (its `registry_auth()`). Exclusive with
    /// `basic_auth`.
    pub token_auth: Option<TokenAuth>,
    /// Origin allowed to call the registry from a browser (CORS headers).
    pub cors_origin: Option<String>,
    /// More `http.headers` entries, as YAML lines such as
    /// `Access-Control-Allow-Origin: ["https://..."]` (from deploy/registry-cors.yml).
    pub extra_headers: Vec<String>,
    /// `storage.delete.enabled`; without it DELETE answers 405 UNSUPPORTED.
    pub delete_enabled: bool,
    /// Serve https with this certificate (`http.tls`); `url()` is then
    /// `https://...` and [`Registry::ca_path`] the CA to trust. A second,
    /// plain-http registry process on the same storage serves
    /// [`Registry::seed_url`], for clients that trust only public roots (the
    /// [`crate::Seeder`]).
    pub tls: Option<TestTls>,
    /// Write Distribution's access log (one combined-log line per request:
    /// `"GET /v2/... HTTP/1.1" 200 ...`) to [`Registry::log_path`]; the
    /// benchmark counts requests from it.
    pub access_log: bool,
    /// Serve this existing storage directory instead of a fresh empty one,
    /// e.g. a copy of another registry's [`Registry::storage_root`]. It is
    /// left in place when the registry stops.
    pub storage_root: Option<PathBuf>,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        Self {
            basic_auth: None,
            token_auth: None,
            cors_origin: None,
            extra_headers: Vec::new(),
            delete_enabled: true,
            tls: None,
            access_log: false,
            storage_root: None,
        }
    }
}

/// The registry's `auth: token` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenAuth {
    /// URL of the token endpoint, sent in the `WWW-Authenticate` challenge.
    pub realm: String,
    /// Service name: challenge `service` and the token's required `aud`.
    pub service: String,
    /// The token's required `iss`.
    pub issuer: String,
    /// PEM file of the certificates trusted to sign tokens.
    pub rootcertbundle: PathBuf,
}

/// A running registry; dropping it kills the process and removes its storage.
#[derive(Debug)]
pub struct Registry {
    main: Served,
    /// With TLS: the plain-http process on the same storage.
    plain: Option<Served>,
    tls: Option<TlsFiles>,
    storage_root: PathBuf,
    credentials: Option<(String, String)>,
    token_auth: Option<TokenAuth>,
    // Declared last so it is removed after the child is gone.
    _dir: TempDir,
}

const START_ATTEMPTS: usize = 4;
/// Sent on every response with a per-instance value (see `try_start`).
const INSTANCE_HEADER: &str = "X-Cleanreg-Testkit-Instance";
const READY_TIMEOUT: Duration = Duration::from_secs(20);

impl Registry {
    /// Starts a registry and waits until `GET /v2/` answers 200 or 401.
    pub fn start(options: RegistryOptions) -> io::Result<Registry> {
        if options.basic_auth.is_some() && options.token_auth.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "RegistryOptions: basic_auth and token_auth are exclusive",
            ));
        }
        let binary = process::find_binary("docker-registry", "/usr/bin/docker-registry")
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    "docker-registry not found on PATH nor at /usr/bin/docker-registry: \
                     install Debian's docker-registry (apt-get install -y docker-registry)",
                )
            })?;
        process::start_with_retries(START_ATTEMPTS, || Self::try_start(&binary, &options))
    }

    /// Outer error: fatal. Inner error: a port was taken, worth a retry.
    fn try_start(binary: &Path, options: &RegistryOptions) -> io::Result<io::Result<Registry>> {
        let dir = tempfile::Builder::new()
            .prefix("cleanreg-registry-")
            .tempdir()?;
        let storage_root = match &options.storage_root {
            Some(root) => root.clone(),
            None => dir.path().join("storage"),
        };
        fs::create_dir_all(&storage_root)?;
        let htpasswd_path = dir.path().join("htpasswd");
        if let Some((user, password)) = &options.basic_auth {
            write_htpasswd(&htpasswd_path, user, password)?;
        }
        let tls = match &options.tls {
            Some(tls) => Some(tls.write_to(dir.path())?),
            None => None,
        };
        let instance = dir
            .path()
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Shared by both processes so an upload's state token verifies on either.
        let secret = format!("cleanreg-testkit-{instance}");
        let config = |port, instance, tls| Config {
            port,
            storage_root: &storage_root,
            htpasswd_path: &htpasswd_path,
            secret: secret.clone(),
            instance,
            tls,
        };
        let (agent, scheme) = match &options.tls {
            Some(test_tls) => (test_tls.agent(PROBE_TIMEOUT)?, "https"),
            None => (process::probe_agent(), "http"),
        };
        let main = Served::start(binary, dir.path(), "", &agent, scheme, |port| {
            config(port, instance.clone(), tls.as_ref()).yaml(options)
        })?;
        let mut main = match main {
            Ok(main) => main,
            Err(port_taken) => return Ok(Err(port_taken)),
        };
        let plain = if options.tls.is_some() {
            let plain = Served::start(
                binary,
                dir.path(),
                "-plain",
                &process::probe_agent(),
                "http",
                |port| config(port, format!("{instance}-plain"), None).yaml(options),
            );
            match plain {
                Ok(Ok(plain)) => Some(plain),
                Ok(Err(port_taken)) => {
                    process::kill(&mut main.child);
                    return Ok(Err(port_taken));
                }
                Err(fatal) => {
                    process::kill(&mut main.child);
                    return Err(fatal);
                }
            }
        } else {
            None
        };
        Ok(Ok(Registry {
            main,
            plain,
            tls,
            storage_root,
            credentials: options.basic_auth.clone(),
            token_auth: options.token_auth.clone(),
            _dir: dir,
        }))
    }

    /// Base URL without trailing slash, e.g. `http://127.0.0.1:5000`, or
    /// `https://127.0.0.1:5000` with TLS.
    pub fn url(&self) -> String {
        self.main.url()
    }

    /// The loopback port the registry listens on.
    pub fn port(&self) -> u16 {
        self.main.port
    }

    /// A plain-http URL of the same registry storage for fixtures such as
    /// the [`crate::Seeder`]: `url()` without TLS; with TLS a second
    /// registry process on the same storage, config and secret.
    pub fn seed_url(&self) -> String {
        self.plain.as_ref().unwrap_or(&self.main).url()
    }

    /// With TLS: the test CA's PEM file, what a client passes as `-c FILE`.
    pub fn ca_path(&self) -> Option<&Path> {
        self.tls.as_ref().map(|files| files.ca.as_path())
    }

    /// With TLS: the CA, certificate and key files the registry uses.
    pub fn tls_files(&self) -> Option<&TlsFiles> {
        self.tls.as_ref()
    }

    /// The generated config, e.g. for `docker-registry garbage-collect`.
    pub fn config_path(&self) -> &Path {
        &self.main.config_path
    }

    /// Filesystem storage root, for asserting on blobs left on disk.
    pub fn storage_root(&self) -> &Path {
        &self.storage_root
    }

    /// The registry's stdout and stderr (with `access_log`, a line per request).
    pub fn log_path(&self) -> &Path {
        &self.main.log_path
    }

    /// Basic-auth username and password when auth is on.
    pub fn credentials(&self) -> Option<(String, String)> {
        self.credentials.clone()
    }

    /// The token auth settings when `auth: token` is on.
    pub fn token_auth(&self) -> Option<&TokenAuth> {
        self.token_auth.as_ref()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        process::kill(&mut self.main.child);
        if let Some(plain) = &mut self.plain {
            process::kill(&mut plain.child);
        }
    }
}

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// One `docker-registry serve` process, ready.
#[derive(Debug)]
struct Served {
    child: Child,
    scheme: &'static str,
    port: u16,
    config_path: PathBuf,
    log_path: PathBuf,
}

impl Served {
    fn url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme, self.port)
    }

    /// Starts `docker-registry serve` on a free port with the config
    /// `yaml(port)` (which must send [`INSTANCE_HEADER`]) as
    /// `config{suffix}.yml`, logging to `registry{suffix}.log`, and waits
    /// until `GET /v2/` answers 200 or 401 with this process's instance.
    /// Outer error: fatal. Inner error: the port was taken.
    fn start(
        binary: &Path,
        dir: &Path,
        suffix: &str,
        agent: &ureq::Agent,
        scheme: &'static str,
        yaml: impl FnOnce(u16) -> (String, String),
    ) -> io::Result<io::Result<Served>> {
        let port = process::free_port()?;
        let (config, instance) = yaml(port);
        let config_path = dir.join(format!("config{suffix}.yml"));
        fs::write(&config_path, config)?;
        let log_path = dir.join(format!("registry{suffix}.log"));
        let log = File::create(&log_path)?;
        let mut child = Command::new(binary)
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;

        let url = format!("{scheme}://127.0.0.1:{port}/v2/");
        // The instance header proves the answer comes from this child, not
        // from whoever else might hold the port.
        let ready = process::wait_ready(&mut child, READY_TIMEOUT, || {
            agent.get(&url).call().is_ok_and(|mut response| {
                let _ = response.body_mut().read_to_vec();
                matches!(response.status().as_u16(), 200 | 401)
                    && response
                        .headers()
                        .get(INSTANCE_HEADER)
                        .is_some_and(|value| value.as_bytes() == instance.as_bytes())
            })
        });
        let failure = match ready {
            Ok(Ok(())) => {
                return Ok(Ok(Served {
                    child,
                    scheme,
                    port,
                    config_path,
                    log_path,
                }));
            }
            Ok(Err(NotReady::Exited(status))) => format!("exited early ({status})"),
            Ok(Err(NotReady::TimedOut)) => format!("did not answer {url} within {READY_TIMEOUT:?}"),
            Err(err) => format!("could not be watched: {err}"),
        };
        process::kill(&mut child);
        let tail = process::log_tail(&log_path, 40);
        let error = io::Error::other(format!(
            "docker-registry on port {port} {failure}; log tail:\n{tail}"
        ));
        if tail.contains("address already in use") {
            Ok(Err(error))
        } else {
            Err(error)
        }
    }
}

/// Writes an htpasswd file; the registry accepts bcrypt entries only.
fn write_htpasswd(path: &Path, user: &str, password: &str) -> io::Result<()> {
    // The lowest cost keeps every authenticated request cheap; this is test data.
    let hash = bcrypt::hash_with_result(password, 4)
        .map_err(io::Error::other)?
        .format_for_version(bcrypt::Version::TwoY);
    fs::write(path, format!("{user}:{hash}\n"))
}

/// Values that vary per start attempt.
struct Config<'a> {
    port: u16,
    storage_root: &'a Path,
    htpasswd_path: &'a Path,
    secret: String,
    /// Value of [`INSTANCE_HEADER`], unique per process.
    instance: String,
    tls: Option<&'a TlsFiles>,
}

impl Config<'_> {
    /// The config file and the instance header value it makes the registry send.
    fn yaml(self, options: &RegistryOptions) -> (String, String) {
        let mut yaml = String::new();
        let _ = write!(
            yaml,
            "version: 0.1\n\
             log:\n  level: error\n  accesslog:\n    disabled: {no_access_log}\n\
             storage:\n  filesystem:\n    rootdirectory: {root}\n  delete:\n    enabled: {delete}\n\
             http:\n  addr: {addr}\n  secret: {secret}\n  headers:\n    \
             {INSTANCE_HEADER}: [{instance}]\n",
            root = quote(&self.storage_root.to_string_lossy()),
            no_access_log = !options.access_log,
            delete = options.delete_enabled,
            addr = quote(&format!("127.0.0.1:{}", self.port)),
            secret = quote(&self.secret),
            instance = quote(&self.instance),
        );
        // A header named twice is a YAML error: the extra lines win.
        let named = |name: &str| {
            options
                .extra_headers
                .iter()
                .any(|line| line.trim_start().starts_with(&format!("{name}:")))
        };
        if !named("X-Content-Type-Options") {
            yaml.push_str("    X-Content-Type-Options: [nosniff]\n");
        }
        for line in &options.extra_headers {
            let _ = writeln!(yaml, "    {}", line.trim());
        }
        if let Some(origin) = &options.cors_origin {
            let headers = [
                ("Access-Control-Allow-Origin", origin.as_str()),
                ("Access-Control-Allow-Credentials", "true"),
                (
                    "Access-Control-Allow-Methods",
                    "HEAD, GET, OPTIONS, DELETE, POST, PUT",
                ),
                (
                    "Access-Control-Allow-Headers",
                    "Authorization, Accept, Content-Type",
                ),
                (
                    "Access-Control-Expose-Headers",
                    "Docker-Content-Digest, Link, WWW-Authenticate, Location",
                ),
            ];
            for (name, value) in headers {
                let _ = writeln!(yaml, "    {name}: [{}]", quote(value));
            }
        }
        // Still inside `http:`, after the header lines above.
        if let Some(tls) = self.tls {
            let _ = write!(
                yaml,
                "  tls:\n    certificate: {}\n    key: {}\n",
                quote(&tls.certificate.to_string_lossy()),
                quote(&tls.key.to_string_lossy()),
            );
        }
        if options.basic_auth.is_some() {
            let _ = write!(
                yaml,
                "auth:\n  htpasswd:\n    realm: cleanreg-test\n    path: {}\n",
                quote(&self.htpasswd_path.to_string_lossy())
            );
        }
        if let Some(token) = &options.token_auth {
            let _ = write!(
                yaml,
                "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    \
                 rootcertbundle: {}\n",
                quote(&token.realm),
                quote(&token.service),
                quote(&token.issuer),
                quote(&token.rootcertbundle.to_string_lossy()),
            );
        }
        (yaml, self.instance)
    }
}
