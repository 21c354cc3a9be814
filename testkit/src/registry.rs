//! A private Distribution 2.8 registry (Debian's `docker-registry`) on a free
//! loopback port, so tests exercise the real server instead of a mock.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::process::{self, NotReady, quote};

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
    /// `storage.delete.enabled`; without it DELETE answers 405 UNSUPPORTED.
    pub delete_enabled: bool,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        Self {
            basic_auth: None,
            token_auth: None,
            cors_origin: None,
            delete_enabled: true,
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
    child: Child,
    port: u16,
    config_path: PathBuf,
    storage_root: PathBuf,
    log_path: PathBuf,
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

    /// Outer error: fatal. Inner error: the port was taken, worth a retry.
    fn try_start(binary: &Path, options: &RegistryOptions) -> io::Result<io::Result<Registry>> {
        let dir = tempfile::Builder::new()
            .prefix("cleanreg-registry-")
            .tempdir()?;
        let port = process::free_port()?;
        let storage_root = dir.path().join("storage");
        fs::create_dir_all(&storage_root)?;
        let htpasswd_path = dir.path().join("htpasswd");
        if let Some((user, password)) = &options.basic_auth {
            write_htpasswd(&htpasswd_path, user, password)?;
        }
        let instance = dir
            .path()
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let config_path = dir.path().join("config.yml");
        let config = Config {
            port,
            storage_root: &storage_root,
            htpasswd_path: &htpasswd_path,
            instance: &instance,
        };
        fs::write(&config_path, config.yaml(options))?;
        let log_path = dir.path().join("registry.log");
        let log = File::create(&log_path)?;
        let mut child = Command::new(binary)
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;

        let agent = process::probe_agent();
        let url = format!("http://127.0.0.1:{port}/v2/");
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
                return Ok(Ok(Registry {
                    child,
                    port,
                    config_path,
                    storage_root,
                    log_path,
                    credentials: options.basic_auth.clone(),
                    token_auth: options.token_auth.clone(),
                    _dir: dir,
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

    /// Base URL without trailing slash, e.g. `http://127.0.0.1:5000`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The loopback port the registry listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The generated config, e.g. for `docker-registry garbage-collect`.
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// Filesystem storage root, for asserting on blobs left on disk.
    pub fn storage_root(&self) -> &Path {
        &self.storage_root
    }

    /// The registry's stdout and stderr.
    pub fn log_path(&self) -> &Path {
        &self.log_path
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
        process::kill(&mut self.child);
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
    instance: &'a str,
}

impl Config<'_> {
    fn yaml(&self, options: &RegistryOptions) -> String {
        let mut yaml = String::new();
        let _ = write!(
            yaml,
            "version: 0.1\n\
             log:\n  level: error\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {root}\n  delete:\n    enabled: {delete}\n\
             http:\n  addr: {addr}\n  secret: {secret}\n  headers:\n    \
             X-Content-Type-Options: [nosniff]\n    {INSTANCE_HEADER}: [{instance}]\n",
            root = quote(&self.storage_root.to_string_lossy()),
            delete = options.delete_enabled,
            addr = quote(&format!("127.0.0.1:{}", self.port)),
            secret = quote(&format!("cleanreg-testkit-{}", self.instance)),
            instance = quote(self.instance),
        );
        if let Some(origin) = &options.cors_origin {
            let headers = [
                ("Access-Control-Allow-Origin", origin.as_str()),
                ("Access-Control-Allow-Credentials", "true"),
                ("Access-Control-Allow-Methods", "HEAD, GET, OPTIONS, DELETE"),
                ("Access-Control-Allow-Headers", "Authorization, Accept"),
                (
                    "Access-Control-Expose-Headers",
                    "Docker-Content-Digest, Link, WWW-Authenticate",
                ),
            ];
            for (name, value) in headers {
                let _ = writeln!(yaml, "    {name}: [{}]", quote(value));
            }
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
        yaml
    }
}
