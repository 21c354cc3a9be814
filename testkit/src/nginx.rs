//! A private nginx that serves static files and proxies `/v2/` to a registry,
//! the same-origin layout used to deploy the dashboard; or serves the files
//! alone (a page on another origin than the registry); or also proxies a
//! token server at `/token`, so token auth stays on the page's origin.
//!
//! It can also run a `deploy/` file as shipped ([`NginxOptions::site`]). The
//! shipped configs pass the registry's `WWW-Authenticate` through (docker
//! needs it at the same address, and the page's fetches omit browser
//! credentials, so no login dialog opens); older fixtures still hide it
//! (`hide_www_authenticate`).
//!
//! With [`NginxOptions::tls`] it serves the same over https with a
//! [`TestTls`] certificate, with HTTP/2 offered (ALPN `h2`) or not, as an
//! admin's nginx would; the listen syntax follows the installed version.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::process::{self, NotReady, quote};
use crate::tls::TestTls;

/// How to configure nginx.
#[derive(Debug, Clone, Default)]
pub struct NginxOptions {
    /// Port to listen on; None picks a free one. To know the origin before
    /// starting (a token realm on it), take one from [`free_loopback_port`].
    pub port: Option<u16>,
    /// Directory served at `/`, with `/index.html` as the fallback.
    pub root: PathBuf,
    /// Registry base URL such as `http://127.0.0.1:5000`, proxied at `/v2/`;
    /// None serves the files alone (`/v2/` is then a 404 from nginx).
    pub upstream: Option<String>,
    /// Token server base URL, proxied at `/token` (path and query kept), so
    /// a registry whose realm is `<nginx>/token` works same-origin.
    pub token_upstream: Option<String>,
    /// Hide the registry's `WWW-Authenticate` so browsers show no login dialog.
    pub hide_www_authenticate: bool,
    /// A site config of its own (server blocks, maps), as a file of
    /// `deploy/` holds it, instead of the generated server; its `listen 80;`
    /// becomes the chosen loopback port. `root`, `upstream`,
    /// `token_upstream` and `hide_www_authenticate` are then unused.
    pub site: Option<String>,
    /// Serve https with this certificate instead of plain http.
    pub tls: Option<NginxTls>,
}

/// https for [`NginxOptions::tls`]: the server certificate of `tls`, with
/// HTTP/2 offered to clients that ask for it when `http2`, else HTTP/1.1
/// only.
#[derive(Debug, Clone)]
pub struct NginxTls {
    pub tls: TestTls,
    pub http2: bool,
}

/// A loopback port free right now (racy by nature: start soon after).
pub fn free_loopback_port() -> io::Result<u16> {
    process::free_port()
}

/// A running nginx; dropping it kills the process.
#[derive(Debug)]
pub struct Nginx {
    child: Child,
    port: u16,
    scheme: &'static str,
    log_path: PathBuf,
    _prefix: TempDir,
}

const START_ATTEMPTS: usize = 4;
const READY_TIMEOUT: Duration = Duration::from_secs(20);
const MIME_TYPES: &str = "/etc/nginx/mime.types";

impl Nginx {
    /// Starts nginx and waits until its port answers HTTP.
    pub fn start(options: NginxOptions) -> io::Result<Nginx> {
        let binary = process::find_binary("nginx", "/usr/sbin/nginx").ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "nginx not found on PATH nor at /usr/sbin/nginx: install Debian's nginx",
            )
        })?;
        let attempts = if options.port.is_some() {
            1
        } else {
            START_ATTEMPTS
        };
        process::start_with_retries(attempts, || Self::try_start(&binary, &options))
    }

    /// Outer error: fatal. Inner error: the port was taken, worth a retry.
    fn try_start(binary: &Path, options: &NginxOptions) -> io::Result<io::Result<Nginx>> {
        let prefix = tempfile::Builder::new()
            .prefix("cleanreg-nginx-")
            .tempdir()?;
        let port = match options.port {
            Some(port) => port,
            None => process::free_port()?,
        };
        let root = if options.site.is_some() {
            PathBuf::new()
        } else {
            std::path::absolute(&options.root)?
        };
        let version = match &options.tls {
            Some(_) => Some(version(binary)?),
            None => None,
        };
        if let Some(tls) = &options.tls {
            fs::write(prefix.path().join("server.pem"), tls.tls.server_cert_pem())?;
            fs::write(
                prefix.path().join("server-key.pem"),
                tls.tls.server_key_pem(),
            )?;
        }
        let listen = listen(port, options.tls.as_ref(), version, prefix.path());
        let config_path = prefix.path().join("nginx.conf");
        fs::write(
            &config_path,
            config(prefix.path(), &listen, &root, options)?,
        )?;
        let log_path = prefix.path().join("error.log");
        let output = File::create(prefix.path().join("output.log"))?;
        let mut child = Command::new(binary)
            .arg("-p")
            .arg(prefix.path())
            .arg("-c")
            .arg(&config_path)
            // Without -e nginx first tries /var/log/nginx/error.log.
            .arg("-e")
            .arg(&log_path)
            .stdin(Stdio::null())
            .stdout(output.try_clone()?)
            .stderr(output)
            .spawn()?;

        let (agent, scheme) = match &options.tls {
            Some(tls) => (tls.tls.agent(Duration::from_secs(2))?, "https"),
            None => (process::probe_agent(), "http"),
        };
        let url = format!("{scheme}://127.0.0.1:{port}/");
        // nginx writes its pid file only after binding, so a pid file holding
        // our child's id proves the answer comes from it, not a port squatter.
        let pid_path = prefix.path().join("nginx.pid");
        let pid = child.id().to_string();
        let ready = process::wait_ready(&mut child, READY_TIMEOUT, || {
            fs::read_to_string(&pid_path).is_ok_and(|text| text.trim() == pid)
                && process::probe_status(&agent, &url).is_some()
        });
        let failure = match ready {
            Ok(Ok(())) => {
                return Ok(Ok(Nginx {
                    child,
                    port,
                    scheme,
                    log_path,
                    _prefix: prefix,
                }));
            }
            Ok(Err(NotReady::Exited(status))) => format!("exited early ({status})"),
            Ok(Err(NotReady::TimedOut)) => format!("did not answer {url} within {READY_TIMEOUT:?}"),
            Err(err) => format!("could not be watched: {err}"),
        };
        process::kill(&mut child);
        let tail = format!(
            "stderr:\n{}\nerror.log:\n{}",
            process::log_tail(&prefix.path().join("output.log"), 20),
            process::log_tail(&log_path, 20)
        );
        let error = io::Error::other(format!("nginx on port {port} {failure}; log tail:\n{tail}"));
        if tail.contains("Address already in use") && options.port.is_none() {
            Ok(Err(error))
        } else {
            Err(error)
        }
    }

    /// Base URL without trailing slash, e.g. `http://127.0.0.1:8080`
    /// (`https://` with [`NginxOptions::tls`]).
    pub fn url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme, self.port)
    }

    /// The loopback port nginx listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// nginx's error log.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// nginx's access log (the combined format: the request line shows the
    /// protocol each request came over, `HTTP/1.1` or `HTTP/2.0`).
    pub fn access_log_path(&self) -> PathBuf {
        self._prefix.path().join("access.log")
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // master_process is off, so there are no workers left behind.
        process::kill(&mut self.child);
    }
}

/// What deploy files listen on; replaced by the loopback port.
const DEPLOY_LISTEN: &str = "listen 80;";

/// The version `nginx -v` reports, as (major, minor, patch).
fn version(binary: &Path) -> io::Result<(u32, u32, u32)> {
    let output = Command::new(binary).arg("-v").output()?;
    // nginx prints `nginx version: nginx/1.22.1` on stderr.
    let text = String::from_utf8_lossy(&output.stderr);
    parse_version(&text)
        .ok_or_else(|| io::Error::other(format!("cannot read the version of nginx -v: {text:?}")))
}

fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let (_, rest) = text.split_once("nginx/")?;
    let number = rest.split_whitespace().next()?;
    let mut parts = number.split('.').map(str::parse::<u32>);
    Some((
        parts.next()?.ok()?,
        parts.next()?.ok()?,
        parts.next()?.ok()?,
    ))
}

/// The `listen` line (and the lines that go with it) of the one server:
/// plain http, or ssl with the certificate written into `prefix`, HTTP/2 on
/// the listen line before nginx 1.25.1 and as `http2 on;` from then on.
fn listen(
    port: u16,
    tls: Option<&NginxTls>,
    version: Option<(u32, u32, u32)>,
    prefix: &Path,
) -> String {
    let Some(tls) = tls else {
        return format!("listen 127.0.0.1:{port};");
    };
    let separate = version.is_some_and(|version| version >= (1, 25, 1));
    let on_listen = if tls.http2 && !separate { " http2" } else { "" };
    let directive = if tls.http2 && separate {
        "\n        http2 on;"
    } else {
        ""
    };
    // nginx closes a connection after 1,000 requests by default (HTTP/2
    // included since 1.19.7); requests a browser sent meanwhile then fail
    // on the closed connection. A scan sends tens of thousands.
    format!(
        "listen 127.0.0.1:{port} ssl{on_listen};{directive}
        keepalive_requests 1000000;
        ssl_certificate {certificate};
        ssl_certificate_key {key};",
        certificate = quote(&prefix.join("server.pem").to_string_lossy()),
        key = quote(&prefix.join("server-key.pem").to_string_lossy()),
    )
}

fn config(prefix: &Path, listen: &str, root: &Path, options: &NginxOptions) -> io::Result<String> {
    let path = |name: &str| quote(&prefix.join(name).to_string_lossy());
    let user = if process::running_as_root() {
        "user root;\n"
    } else {
        ""
    };
    let mime_types = fs::read_to_string(MIME_TYPES).unwrap_or_default();
    // Browsers refuse to stream-compile wasm served with another type.
    let wasm_type = if mime_types.contains("application/wasm") {
        ""
    } else {
        "    types { application/wasm wasm; }\n"
    };
    let hide = if options.hide_www_authenticate {
        "            proxy_hide_header WWW-Authenticate;\n"
    } else {
        ""
    };
    // Without a URI part, proxy_pass forwards `/v2/...` unchanged.
    let registry = options
        .upstream
        .as_deref()
        .map_or(String::new(), |upstream| {
            format!(
                "        location /v2/ {{
            proxy_pass {upstream};
            proxy_set_header Host $http_host;
            proxy_http_version 1.1;
            proxy_request_buffering off;
            proxy_buffering off;
            client_max_body_size 0;
{hide}        }}
",
                upstream = upstream.trim_end_matches('/'),
            )
        });
    let token = options
        .token_upstream
        .as_deref()
        .map_or(String::new(), |upstream| {
            format!(
                "        location = /token {{
            proxy_pass {upstream};
            proxy_set_header Host $http_host;
            proxy_http_version 1.1;
        }}
",
                upstream = upstream.trim_end_matches('/'),
            )
        });
    let server = match &options.site {
        Some(site) => {
            if site.matches(DEPLOY_LISTEN).count() != 1 {
                return Err(io::Error::other(format!(
                    "a site config must hold `{DEPLOY_LISTEN}` exactly once, to put the port in"
                )));
            }
            site.replace(DEPLOY_LISTEN, listen)
        }
        None => format!(
            "    server {{
        {listen}
        server_name localhost;
{registry}{token}        location / {{
            root {root};
            try_files $uri $uri/ /index.html;
        }}
    }}
",
            root = quote(&root.to_string_lossy()),
        ),
    };
    Ok(format!(
        "{user}daemon off;
master_process off;
pid {pid};
error_log {error_log} warn;
events {{
    worker_connections 256;
}}
http {{
    include {MIME_TYPES};
{wasm_type}    default_type application/octet-stream;
    access_log {access_log};
    client_body_temp_path {client_body};
    proxy_temp_path {proxy};
    fastcgi_temp_path {fastcgi};
    uwsgi_temp_path {uwsgi};
    scgi_temp_path {scgi};
{server}}}
",
        pid = path("nginx.pid"),
        error_log = path("error.log"),
        access_log = path("access.log"),
        client_body = path("client_body_temp"),
        proxy = path("proxy_temp"),
        fastcgi = path("fastcgi_temp"),
        uwsgi = path("uwsgi_temp"),
        scgi = path("scgi_temp"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_comes_from_nginx_v() {
        assert_eq!(
            parse_version("nginx version: nginx/1.22.1\n"),
            Some((1, 22, 1))
        );
        assert_eq!(
            parse_version("nginx version: nginx/1.25.1 (Ubuntu)"),
            Some((1, 25, 1))
        );
        assert_eq!(parse_version("nginx: unknown"), None);
    }

    #[test]
    fn http2_goes_on_the_listen_line_before_1_25_1() {
        let tls = |http2| NginxTls {
            tls: TestTls::generate().unwrap(),
            http2,
        };
        let prefix = Path::new("/p");
        assert_eq!(listen(8, None, None, prefix), "listen 127.0.0.1:8;");
        let old = listen(8, Some(&tls(true)), Some((1, 22, 1)), prefix);
        assert!(old.starts_with("listen 127.0.0.1:8 ssl http2;\n"), "{old}");
        assert!(!old.contains("http2 on;"), "{old}");
        assert!(old.contains("ssl_certificate \"/p/server.pem\";"), "{old}");
        assert!(
            old.contains("ssl_certificate_key \"/p/server-key.pem\";"),
            "{old}"
        );
        let new = listen(8, Some(&tls(true)), Some((1, 25, 1)), prefix);
        assert!(
            new.starts_with("listen 127.0.0.1:8 ssl;\n        http2 on;"),
            "{new}"
        );
        for version in [(1, 22, 1), (1, 27, 0)] {
            let plain = listen(8, Some(&tls(false)), Some(version), prefix);
            assert!(plain.starts_with("listen 127.0.0.1:8 ssl;\n"), "{plain}");
            assert!(!plain.contains("http2"), "{plain}");
        }
    }
}
