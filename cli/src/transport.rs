//! The native [`Transport`]: blocking HTTP through ureq, one thread per
//! request so a scan's concurrent requests really run side by side.
//!
//! TLS is rustls with Mozilla's roots built in (ureq's `rustls` feature, the
//! same roots the original cleanreg got from Python's `certifi`); `-c FILE`
//! replaces them with the CAs in FILE (the original used the file as its CA
//! bundle), `-sv` turns verification off. A proxy is used only when asked
//! (`-p`: the environment's proxy variables, honouring `NO_PROXY`); ureq
//! tunnels every request through it with `CONNECT`, plain-http registries
//! included.
//!
//! Each request runs on a thread of its own and hands its answer back
//! through a oneshot channel, so `futures-executor` drives a scan's
//! concurrent futures without an async runtime.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cleanreg_core::{Transport, TransportError};
use futures_channel::oneshot;
use http::{Request, Response};
use time::OffsetDateTime;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

/// Manifests and configs are small; this only stops a runaway answer.
const MAX_BODY: u64 = cleanreg_core::MAX_BODY_BYTES;

/// Proxy variables `-p` reads, first set one wins.
const PROXY_VARS: [&str; 6] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
];
/// Variables listing hosts reached without the proxy, first set one wins.
const NO_PROXY_VARS: [&str; 2] = ["NO_PROXY", "no_proxy"];

/// How [`NativeTransport`] reaches the registry.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TransportOptions {
    /// Proxy URL such as `http://proxy.example:3128` (`http://` or
    /// `https://`, optionally with `user:password@`); every request is
    /// tunnelled through it with `CONNECT`. `None` = direct, whatever the
    /// environment says.
    pub proxy: Option<String>,
    /// Hosts reached without the proxy, in `NO_PROXY` syntax: `host`
    /// (exactly that host), `.example.com` or `*.example.com` (its
    /// subdomains), `*` (everything). Matched per request, so it applies to
    /// a token realm on another host too. Ignored without `proxy`.
    pub no_proxy: Vec<String>,
    /// PEM file with the CA certificate(s) to trust (`-c`). They replace the
    /// built-in roots rather than add to them, as the original cleanreg used
    /// the file as its CA bundle: a registry with a public certificate then
    /// needs its CA in the file as well.
    pub ca_file: Option<PathBuf>,
    /// Accept any certificate, unverified (`-sv`). Wins over `ca_file`.
    pub skip_tls_verify: bool,
}

impl fmt::Debug for TransportOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportOptions")
            .field("proxy", &self.proxy.as_deref().map(redact_userinfo))
            .field("no_proxy", &self.no_proxy)
            .field("ca_file", &self.ca_file)
            .field("skip_tls_verify", &self.skip_tls_verify)
            .finish()
    }
}

impl TransportOptions {
    /// The proxy `-p` asks for: the first non-empty of `HTTPS_PROXY`,
    /// `https_proxy`, `HTTP_PROXY`, `http_proxy`, `ALL_PROXY`, `all_proxy`.
    /// Pair it with [`TransportOptions::no_proxy_from_env`].
    pub fn proxy_from_env() -> Option<String> {
        proxy_from(env_var)
    }

    /// The entries of `NO_PROXY` (else `no_proxy`), comma-separated.
    pub fn no_proxy_from_env() -> Vec<String> {
        no_proxy_from(env_var)
    }

    /// These options with the environment's proxy and `NO_PROXY` (what `-p`
    /// means); without a proxy variable the registry is reached directly.
    pub fn with_env_proxy(self) -> TransportOptions {
        TransportOptions {
            proxy: TransportOptions::proxy_from_env(),
            no_proxy: TransportOptions::no_proxy_from_env(),
            ..self
        }
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// [`TransportOptions::proxy_from_env`] over any variable lookup.
fn proxy_from(vars: impl Fn(&str) -> Option<String>) -> Option<String> {
    PROXY_VARS.iter().find_map(|name| {
        vars(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    })
}

/// [`TransportOptions::no_proxy_from_env`] over any variable lookup.
fn no_proxy_from(vars: impl Fn(&str) -> Option<String>) -> Vec<String> {
    NO_PROXY_VARS
        .iter()
        .find_map(|name| vars(name))
        .map(|value| {
            value
                .split(',')
                .map(str::trim)
                .filter(|entry| !entry.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// `scheme://user:password@host` shown as `scheme://***@host`.
fn redact_userinfo(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let prefix = if scheme.is_empty() {
                String::new()
            } else {
                format!("{scheme}://")
            };
            format!("{prefix}***{}", &rest[at..])
        }
        None => url.to_owned(),
    }
}

pub struct NativeTransport {
    agent: ureq::Agent,
    /// The proxy requests go through, if any: named in errors, so a dead
    /// proxy is not mistaken for a dead registry.
    proxy: Option<ureq::Proxy>,
}

impl NativeTransport {
    /// `use_env_proxy`: honour `HTTP(S)_PROXY`; the original cleanreg reached
    /// the registry without a proxy unless asked (`-p`). Built-in roots, full
    /// verification. See [`NativeTransport::with_options`] for the rest.
    pub fn new(use_env_proxy: bool) -> NativeTransport {
        let proxy = if use_env_proxy {
            ureq::Proxy::try_from_env()
        } else {
            None
        };
        let config = base_config().proxy(proxy.clone()).build();
        NativeTransport {
            agent: ureq::Agent::new_with_config(config),
            proxy,
        }
    }

    /// No proxy, built-in roots, full verification.
    pub fn direct() -> NativeTransport {
        NativeTransport::new(false)
    }

    /// A transport as `options` say. Errors (for the user, naming the file
    /// or variable at fault): an unreadable CA file or one without a PEM
    /// certificate, a proxy URL ureq cannot use.
    pub fn with_options(options: &TransportOptions) -> Result<NativeTransport, String> {
        let tls = TlsConfig::builder().disable_verification(options.skip_tls_verify);
        let tls = match &options.ca_file {
            Some(path) => tls.root_certs(RootCerts::new_with_certs(&read_ca_file(path)?)),
            None => tls,
        };
        let proxy = options
            .proxy
            .as_deref()
            .map(|url| proxy(url, &options.no_proxy))
            .transpose()?;
        let config = base_config()
            .tls_config(tls.build())
            .proxy(proxy.clone())
            .build();
        Ok(NativeTransport {
            agent: ureq::Agent::new_with_config(config),
            proxy,
        })
    }
}

fn base_config() -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        // The client follows redirects itself, so credentials stay on the registry.
        .max_redirects(0)
        .max_redirects_will_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .user_agent(concat!("cleanreg/", env!("CARGO_PKG_VERSION")))
}

/// Every certificate of a PEM file; keys and other sections are skipped.
fn read_ca_file(path: &Path) -> Result<Vec<Certificate<'static>>, String> {
    let fail = |why: String| format!("CA file {}: {why}", path.display());
    let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let mut certificates = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item.map_err(|e| fail(format!("not a valid PEM file ({e})")))? {
            PemItem::Certificate(certificate) => certificates.push(certificate),
            _ => continue,
        }
    }
    if certificates.is_empty() {
        return Err(fail(
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
        ));
    }
    Ok(certificates)
}

fn proxy(url: &str, no_proxy: &[String]) -> Result<ureq::Proxy, String> {
    let shown = redact_userinfo(url);
    let parsed =
        ureq::Proxy::new(url).map_err(|e| format!("proxy {shown}: not a usable URL ({e})"))?;
    let protocol = parsed.protocol();
    if !matches!(
        protocol,
        ureq::ProxyProtocol::Http | ureq::ProxyProtocol::Https
    ) {
        return Err(format!(
            "proxy {shown}: only http:// and https:// proxies are supported, not {protocol:?}"
        ));
    }
    if no_proxy.is_empty() {
        return Ok(parsed);
    }
    let mut builder = ureq::Proxy::builder(protocol)
        .host(parsed.host())
        .port(parsed.port());
    if let Some(user) = parsed.username() {
        builder = builder.username(user);
    }
    if let Some(password) = parsed.password() {
        builder = builder.password(password);
    }
    for entry in no_proxy {
        builder = builder.no_proxy(entry);
    }
    builder
        .build()
        .map_err(|e| format!("proxy {shown}: not a usable URL ({e})"))
}

/// The rustls error behind a failed request, if TLS is what failed.
fn tls_error(error: &ureq::Error) -> Option<&rustls::Error> {
    match error {
        ureq::Error::Rustls(e) => Some(e),
        ureq::Error::Io(e) => e.get_ref()?.downcast_ref::<rustls::Error>(),
        _ => None,
    }
}

/// ureq's error in words a registry admin can act on.
fn describe(error: &ureq::Error) -> String {
    match tls_error(error) {
        Some(rustls::Error::InvalidCertificate(why)) => format!(
            "TLS certificate problem: the registry's certificate was rejected ({why}); \
             if your own CA signed it, trust that CA with -c CA.pem, \
             or skip verification with -sv (insecure)"
        ),
        Some(e @ rustls::Error::InvalidMessage(_)) => format!(
            "TLS handshake failed ({e}); does the registry speak https at this address, \
             or is it plain http?"
        ),
        Some(e) => format!("TLS handshake failed: {e}"),
        None => match error {
            ureq::Error::ConnectProxyFailed(why) => {
                format!("the proxy did not open a tunnel (CONNECT) to the registry: {why}")
            }
            _ => error.to_string(),
        },
    }
}

fn send_blocking(
    agent: &ureq::Agent,
    proxy: Option<&ureq::Proxy>,
    request: Request<Vec<u8>>,
) -> Result<Response<Vec<u8>>, TransportError> {
    let via = proxy
        .filter(|proxy| !proxy.is_no_proxy(request.uri()))
        .map(|proxy| format!("{}:{}", proxy.host(), proxy.port()));
    let response = agent.run(request).map_err(|e| {
        let message = describe(&e);
        TransportError(match via {
            Some(via) if !matches!(e, ureq::Error::ConnectProxyFailed(_)) => {
                format!("{message}; sent through the proxy {via} (-p)")
            }
            _ => message,
        })
    })?;
    let (parts, body) = response.into_parts();
    let bytes = body
        .into_with_config()
        .limit(MAX_BODY)
        .read_to_vec()
        .map_err(|e| TransportError(format!("reading the answer: {e}")))?;
    Ok(Response::from_parts(parts, bytes))
}

impl Transport for NativeTransport {
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        let (answer, answered) = oneshot::channel();
        let agent = self.agent.clone();
        let proxy = self.proxy.clone();
        std::thread::Builder::new()
            .name("cleanreg-http".into())
            .spawn(move || {
                let _ = answer.send(send_blocking(&agent, proxy.as_ref(), request));
            })
            .map_err(|e| TransportError(format!("could not start a request thread: {e}")))?;
        answered
            .await
            .map_err(|_| TransportError("the request thread ended without an answer".into()))?
    }

    async fn sleep(&self, duration: Duration) {
        // A zero wait is core yielding between steps: nothing to wait for.
        if duration.is_zero() {
            return;
        }
        let (done, waited) = oneshot::channel::<()>();
        let started = std::thread::Builder::new()
            .name("cleanreg-wait".into())
            .spawn(move || {
                std::thread::sleep(duration);
                let _ = done.send(());
            });
        match started {
            Ok(_) => {
                let _ = waited.await;
            }
            Err(_) => std::thread::sleep(duration),
        }
    }

    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(set: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            set.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn no_proxy_variable_means_direct() {
        assert_eq!(proxy_from(vars(&[])), None);
        assert_eq!(proxy_from(vars(&[("HTTP_PROXY", "  ")])), None);
        assert_eq!(proxy_from(vars(&[("NO_PROXY", "*")])), None);
    }

    #[test]
    fn https_proxy_wins_then_http_then_all() {
        let all = [
            ("all_proxy", "http://all-lower:1"),
            ("ALL_PROXY", "http://all:1"),
            ("http_proxy", "http://http-lower:1"),
            ("HTTP_PROXY", "http://http:1"),
            ("https_proxy", "http://https-lower:1"),
            ("HTTPS_PROXY", "http://https:1"),
        ];
        let expected = [
            "http://all-lower:1",
            "http://all:1",
            "http://http-lower:1",
            "http://http:1",
            "http://https-lower:1",
            "http://https:1",
        ];
        // Each longer prefix of `all` adds a variable that takes precedence.
        for (end, expected) in expected.iter().enumerate() {
            let set = &all[..=end];
            assert_eq!(proxy_from(vars(set)).as_deref(), Some(*expected), "{set:?}");
        }
        // An empty higher one does not hide a lower one.
        assert_eq!(
            proxy_from(vars(&[
                ("HTTPS_PROXY", ""),
                ("http_proxy", " http://p:3128 ")
            ]))
            .as_deref(),
            Some("http://p:3128")
        );
    }

    #[test]
    fn no_proxy_lists_trimmed_entries_upper_case_first() {
        assert!(no_proxy_from(vars(&[])).is_empty());
        assert_eq!(
            no_proxy_from(vars(&[
                ("no_proxy", "a"),
                ("NO_PROXY", " localhost, .corp,,*.x ")
            ])),
            ["localhost", ".corp", "*.x"]
        );
        assert_eq!(
            no_proxy_from(vars(&[("no_proxy", "127.0.0.1")])),
            ["127.0.0.1"]
        );
    }

    #[test]
    fn proxy_credentials_never_show() {
        assert_eq!(
            redact_userinfo("http://me:secret@proxy:3128/x@y"),
            "http://***@proxy:3128/x@y"
        );
        assert_eq!(redact_userinfo("me:secret@proxy:3128"), "***@proxy:3128");
        assert_eq!(redact_userinfo("http://proxy:3128"), "http://proxy:3128");
        let options = TransportOptions {
            proxy: Some("http://me:secret@proxy:3128".into()),
            ..TransportOptions::default()
        };
        assert!(!format!("{options:?}").contains("secret"));
        let error = NativeTransport::with_options(&TransportOptions {
            proxy: Some("socks5://me:secret@proxy:1080".into()),
            ..TransportOptions::default()
        })
        .err()
        .expect("socks is refused");
        assert!(error.contains("only http:// and https://"), "{error}");
        assert!(!error.contains("secret"), "{error}");
    }

    #[test]
    fn a_proxy_with_no_proxy_entries_keeps_its_address_and_login() {
        let proxy = proxy(
            "http://me:p%40ss@proxy.example:3128",
            &["localhost".to_owned(), ".corp".to_owned()],
        )
        .unwrap();
        assert_eq!(proxy.host(), "proxy.example");
        assert_eq!(proxy.port(), 3128);
        assert_eq!(proxy.username(), Some("me"));
        assert_eq!(proxy.password(), Some("p@ss"));
        assert!(proxy.is_no_proxy(&"http://localhost:5000/v2/".parse().unwrap()));
        assert!(proxy.is_no_proxy(&"https://registry.corp/v2/".parse().unwrap()));
        assert!(!proxy.is_no_proxy(&"https://registry.example/v2/".parse().unwrap()));
    }
}
