//! Why connecting failed, told apart from what the page could observe, with
//! the exact fix for each cause.
//!
//! The browser hides the cause of a blocked request: a CORS refusal, a
//! failed preflight and a dead server all look like one network error. So
//! the page probes (see [`crate::platform::probe::probe_simple`] and
//! [`crate::platform::probe::probe_opaque`]) and [`classify`] decides, as a pure
//! function over what the probes saw.
//!
//! The causes: unreachable, cors, preflight, credentials, not-registry, each
//! with its fix and a config snippet. A refused catalog is the `no-catalog`
//! diagnosis, which asks for repository names.

use cleanreg_core::Error;

use crate::platform::probe::{Answer, SimpleGet};

/// The causes the page tells apart. Their keys are the `data-kind` values
/// of `data-testid="diagnosis"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagnosisKind {
    /// No answer at all: the URL is wrong or the server is down.
    Unreachable,
    /// The registry answers, but sends no CORS headers for this page.
    Cors,
    /// The CORS preflight (`OPTIONS`) of an authenticated request failed.
    Preflight,
    /// Credentials missing, wrong, or refused by the token server.
    Credentials,
    /// Something answers, but it is not a registry.
    NotRegistry,
    /// The registry refuses deletes (`405 UNSUPPORTED`).
    DeleteDisabled,
    /// The registry does not list its repositories to this account: the
    /// person names them in the Repositories field.
    NoCatalog,
}

impl DiagnosisKind {
    pub fn key(self) -> &'static str {
        match self {
            DiagnosisKind::Unreachable => "unreachable",
            DiagnosisKind::Cors => "cors",
            DiagnosisKind::Preflight => "preflight",
            DiagnosisKind::Credentials => "credentials",
            DiagnosisKind::NotRegistry => "not-registry",
            DiagnosisKind::DeleteDisabled => "delete-disabled",
            DiagnosisKind::NoCatalog => "no-catalog",
        }
    }
}

/// A cause, explained, with the configuration that fixes it (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    pub kind: DiagnosisKind,
    /// One line: what is wrong.
    pub title: String,
    /// Why, and what to do.
    pub explanation: String,
    /// Configuration text to paste, with this page's origin filled in.
    pub snippet: Option<String>,
}

impl Diagnosis {
    /// The registry answered a DELETE with `405 UNSUPPORTED`: deleting is
    /// switched off in its configuration (or it is a pull-through cache).
    pub fn delete_disabled(registry: &str) -> Diagnosis {
        Diagnosis {
            kind: DiagnosisKind::DeleteDisabled,
            title: format!("{registry} does not allow deleting"),
            explanation: "The registry answered the first DELETE with 405 UNSUPPORTED, so \
                          nothing more was tried. Deleting is off by default in Distribution: \
                          add the lines below to its config.yml and restart it. A pull-through \
                          cache (proxy.remoteurl set) refuses deletes whatever the setting. Then scan \
                          again and apply again."
                .to_owned(),
            snippet: Some("storage:\n  delete:\n    enabled: true\n".to_owned()),
        }
    }
}

impl Diagnosis {
    /// The credentials work, but the registry refused to list its
    /// repositories (`GET /v2/_catalog`): `status` and `code` are its
    /// answer, `prefixes` the name prefixes the Repositories field gave,
    /// which cannot be expanded without the catalog.
    pub fn no_catalog(
        registry: &str,
        status: Option<u16>,
        code: Option<&str>,
        prefixes: &[String],
    ) -> Diagnosis {
        let answer = match (status, code) {
            (Some(status), Some(code)) => format!("HTTP {status} {code}"),
            (Some(status), None) => format!("HTTP {status}"),
            _ => "a refusal".to_owned(),
        };
        let prefixes = if prefixes.is_empty() {
            String::new()
        } else {
            format!(
                " The name prefix{} {} cannot be listed without it: write each repository under \
                 {} in full.",
                if prefixes.len() == 1 { "" } else { "es" },
                prefixes.join(", "),
                if prefixes.len() == 1 { "it" } else { "them" }
            )
        };
        Diagnosis {
            kind: DiagnosisKind::NoCatalog,
            title: format!("{registry} does not list its repositories to this account"),
            explanation: format!(
                "The username and password work, but the registry answered the catalog \
                 (GET /v2/_catalog) with {answer}. GitLab, Harbor (except for system admins), \
                 GHCR and Docker Hub never list repositories to ordinary accounts. Write the \
                 repositories to clean in the Repositories field, one a line (e.g. \
                 group/project/app), and connect again; the link of this page keeps them.\
                 {prefixes}"
            ),
            snippet: None,
        }
    }
}

/// How the real check (the client's `GET /v2/` with credentials) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PingFailure {
    /// No HTTP answer; `realm` names the token server when the request that
    /// got none went there.
    NoAnswer { realm: Option<String> },
    /// An error status from the registry.
    Status { status: u16 },
    /// The token server refused or answered nonsense.
    TokenRefused { realm: String, detail: String },
    /// An answer that is not what a registry sends.
    NotRegistry { detail: String },
}

impl PingFailure {
    /// Sorts a core error by where it happened: at the registry's origin or
    /// at a token realm.
    pub fn of(error: &Error, registry_origin: &str) -> PingFailure {
        // The token realm: another origin, or a path outside /v2/.
        let elsewhere = |request: &str| -> Option<String> {
            let url = request.split_once(' ').map_or(request, |(_, url)| url);
            let url = url.split_once(' ').map_or(url, |(url, _)| url);
            let at_registry = cleanreg_core::protocol::same_origin(url, registry_origin)
                && url[registry_origin.len()..].contains("/v2/");
            if at_registry {
                None
            } else {
                Some(
                    url.split_once('?')
                        .map_or(url, |(realm, _)| realm)
                        .to_owned(),
                )
            }
        };
        match error {
            Error::Network { request, .. } => PingFailure::NoAnswer {
                realm: elsewhere(request),
            },
            Error::Registry(registry) => match elsewhere(&registry.request) {
                Some(realm) => PingFailure::TokenRefused {
                    realm,
                    detail: error.to_string(),
                },
                None => PingFailure::Status {
                    status: registry.status,
                },
            },
            Error::CatalogRefused { cause, .. } => PingFailure::of(cause, registry_origin),
            Error::Protocol { request, detail } => match elsewhere(request) {
                Some(realm) => PingFailure::TokenRefused {
                    realm,
                    detail: detail.clone(),
                },
                None => PingFailure::NotRegistry {
                    detail: detail.clone(),
                },
            },
        }
    }
}

/// `scheme://host:port` of a URL (the URL itself when it has no path).
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find(['/', '?', '#']) {
        Some(end) => &url[..after_scheme + end],
        None => url,
    }
}

/// Everything [`classify`] looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// The registry URL as entered.
    pub registry: String,
    /// This page's origin, e.g. `http://127.0.0.1:8080`.
    pub page_origin: String,
    /// Whether a username or password was given.
    pub credentials_given: bool,
    pub ping: PingFailure,
    pub simple: SimpleGet,
    /// `fetch` in `no-cors` mode: `Some(true)` when it got an (opaque)
    /// answer, `Some(false)` when it threw, `None` when not tried.
    pub opaque: Option<bool>,
}

impl Observed {
    pub fn same_origin(&self) -> bool {
        !self.page_origin.is_empty() && origin_of(&self.registry) == self.page_origin
    }
}

/// The cause, or `None` when none of the known ones fits (the one-line
/// error then says what happened).
pub fn classify(seen: &Observed) -> Option<Diagnosis> {
    match &seen.ping {
        PingFailure::NoAnswer { realm: Some(realm) } => Some(token_unreachable(seen, realm)),
        PingFailure::NoAnswer { realm: None } => {
            if seen.same_origin() {
                return Some(unreachable(seen));
            }
            match &seen.simple {
                SimpleGet::Answered(answer) if !answer.looks_like_registry() => {
                    Some(not_registry(seen, &describe_answer(answer)))
                }
                // The request without custom headers got through, the one
                // with Authorization did not: its preflight failed.
                SimpleGet::Answered(_) if seen.credentials_given => Some(preflight(seen)),
                // Without credentials both requests are the same: the
                // server answers only some of the time.
                SimpleGet::Answered(_) => Some(unreachable(seen)),
                SimpleGet::Threw if seen.opaque == Some(true) => Some(cors(seen)),
                SimpleGet::Threw | SimpleGet::NotTried => Some(unreachable(seen)),
            }
        }
        PingFailure::Status { status: 401 | 403 } => Some(credentials(seen, None)),
        PingFailure::Status { status } => match &seen.simple {
            SimpleGet::Answered(answer) if answer.looks_like_registry() => None,
            _ if *status == 404 => Some(not_registry(
                seen,
                "404 Not Found for /v2/, which every registry answers",
            )),
            _ => None,
        },
        PingFailure::TokenRefused { realm, detail } => {
            Some(credentials(seen, Some((realm.as_str(), detail.as_str()))))
        }
        PingFailure::NotRegistry { detail } => Some(not_registry(seen, detail)),
    }
}

fn describe_answer(answer: &Answer) -> String {
    format!(
        "HTTP {} with {}",
        answer.status,
        answer.content_type.as_deref().unwrap_or("no Content-Type")
    )
}

fn unreachable(seen: &Observed) -> Diagnosis {
    let explanation = if seen.same_origin() {
        "This page and the registry share an origin, so nothing blocked the request: no \
         server answered. Check that the registry runs, and that the proxy serving this page \
         forwards /v2/ to it."
            .to_owned()
    } else {
        format!(
            "Neither a normal request nor one that ignores CORS got an answer from {}. The URL \
             is wrong (scheme, host or port), the server is down, or a firewall, certificate \
             or mixed-content rule (an http:// registry from an https:// page) stops it. Open \
             {}/v2/ in a new tab: a registry answers {{}} or asks for a login.",
            seen.registry,
            seen.registry.trim_end_matches('/'),
        )
    };
    Diagnosis {
        kind: DiagnosisKind::Unreachable,
        title: format!("No answer from {}", seen.registry),
        explanation,
        snippet: None,
    }
}

/// The registry's `http.headers` for this page's origin.
pub fn cors_snippet(page_origin: &str) -> String {
    format!(
        "http:\n  headers:\n    \
         Access-Control-Allow-Origin: ['{page_origin}']\n    \
         Access-Control-Allow-Credentials: [true]\n    \
         Access-Control-Allow-Methods: ['HEAD, GET, OPTIONS, DELETE, POST, PUT']\n    \
         Access-Control-Allow-Headers: ['Authorization, Accept, Content-Type']\n    \
         Access-Control-Expose-Headers: ['Docker-Content-Digest, Link, WWW-Authenticate, Location']\n"
    )
}

fn cors(seen: &Observed) -> Diagnosis {
    Diagnosis {
        kind: DiagnosisKind::Cors,
        title: format!(
            "The browser blocked the answer from {}: no CORS headers for this page",
            seen.registry
        ),
        explanation: format!(
            "The registry is up (a request that ignores CORS got an answer), but its answers \
             do not allow this page's origin {origin}, so the browser hides them. Add these \
             lines under http: in the registry's config.yml and restart it. With \
             authentication on, Distribution also needs a proxy for the preflight; this page \
             will say so after this fix.",
            origin = seen.page_origin
        ),
        snippet: Some(cors_snippet(&seen.page_origin)),
    }
}

/// Two nginx configurations: a proxy answering the preflight, or this page
/// served next to the registry.
pub fn preflight_snippet(page_origin: &str, registry: &str) -> String {
    let upstream = origin_of(registry);
    format!(
        "# Fix (a): a proxy in front of the registry answers OPTIONS itself and\n\
         # sends the CORS headers (the registry's own are hidden, so none is\n\
         # doubled). Enter the proxy's URL in this page instead of the registry's.\n\
         location /v2/ {{\n    \
             if ($request_method = OPTIONS) {{\n        \
                 add_header Access-Control-Allow-Origin '{page_origin}' always;\n        \
                 add_header Access-Control-Allow-Methods 'HEAD, GET, OPTIONS, DELETE, POST, PUT' always;\n        \
                 add_header Access-Control-Allow-Headers 'Authorization, Accept, Content-Type' always;\n        \
                 add_header Access-Control-Max-Age 600 always;\n        \
                 return 204;\n    \
             }}\n    \
             proxy_pass {upstream};\n    \
             proxy_set_header Host $http_host;\n    \
             proxy_hide_header Access-Control-Allow-Origin;\n    \
             proxy_hide_header Access-Control-Allow-Credentials;\n    \
             proxy_hide_header Access-Control-Allow-Methods;\n    \
             proxy_hide_header Access-Control-Allow-Headers;\n    \
             proxy_hide_header Access-Control-Expose-Headers;\n    \
             add_header Access-Control-Allow-Origin '{page_origin}' always;\n    \
             add_header Access-Control-Expose-Headers 'Docker-Content-Digest, Link, WWW-Authenticate, Location' always;\n\
         }}\n\
         \n\
         # Fix (b): serve this page from the registry's origin; no CORS at all.\n\
         # The page's files (dist/) under /cleanreg/, the registry API under /v2/.\n\
         location /cleanreg/ {{\n    \
             alias /srv/cleanreg/dist/;\n\
         }}\n\
         location /v2/ {{\n    \
             proxy_pass {upstream};\n    \
             proxy_set_header Host $http_host;\n    \
             # Keeps the browser's own login dialog away from the page.\n    \
             proxy_hide_header WWW-Authenticate;\n\
         }}\n"
    )
}

fn preflight(seen: &Observed) -> Diagnosis {
    Diagnosis {
        kind: DiagnosisKind::Preflight,
        title: "The browser's preflight to the registry failed".to_owned(),
        explanation: format!(
            "A plain request to {registry} got an answer, but the one carrying your \
             credentials did not. For a request with an Authorization header the browser \
             first sends OPTIONS (a CORS preflight) without credentials, and Distribution \
             answers that with 401 when authentication is on, so the browser never sends the \
             real request. The registry's configuration cannot change this. Either (a) put a \
             proxy in front that answers OPTIONS itself and use its URL here, or (b) serve \
             this page from the registry's own origin behind a proxy that forwards /v2/, so \
             no preflight happens. Both as nginx configuration below (fix (a) keeps the \
             registry's CORS headers for the other requests).",
            registry = seen.registry
        ),
        snippet: Some(preflight_snippet(&seen.page_origin, &seen.registry)),
    }
}

fn credentials(seen: &Observed, token: Option<(&str, &str)>) -> Diagnosis {
    let (title, explanation) = match token {
        Some((realm, detail)) => (
            format!("The token server {realm} refused the credentials"),
            format!(
                "The registry uses token authentication and sends the page to {realm} for a \
                 token; that server did not give one ({detail}). Check the username and \
                 password{}, and that this user may read the registry (pull, and catalog \
                 access).",
                if seen.credentials_given {
                    ""
                } else {
                    " (none were given: this registry may need them)"
                }
            ),
        ),
        None if seen.credentials_given => (
            "The registry refused the username or password".to_owned(),
            format!(
                "{} answered 401 or 403 to the credentials given. Check the username and \
                 password (they are case-sensitive), and that this user may read the registry.",
                seen.registry
            ),
        ),
        None => (
            "The registry needs credentials".to_owned(),
            format!(
                "{} answered 401 without credentials: enter a username and password and \
                 connect again.",
                seen.registry
            ),
        ),
    };
    Diagnosis {
        kind: DiagnosisKind::Credentials,
        title,
        explanation,
        snippet: None,
    }
}

fn token_unreachable(seen: &Observed, realm: &str) -> Diagnosis {
    Diagnosis {
        kind: DiagnosisKind::Cors,
        title: format!("No answer from the token server {realm}"),
        explanation: format!(
            "The registry sends the page to {realm} for a token, and the browser got no \
             answer from there: the server is down, or it sends no CORS headers for this \
             page's origin {origin}. It must allow this origin, the methods GET and OPTIONS \
             and the header Authorization (e.g. in nginx in front of it, as below).",
            origin = seen.page_origin
        ),
        snippet: Some(format!(
            "add_header Access-Control-Allow-Origin '{}' always;\n\
             add_header Access-Control-Allow-Methods 'GET, OPTIONS' always;\n\
             add_header Access-Control-Allow-Headers 'Authorization' always;\n\
             if ($request_method = OPTIONS) {{ return 204; }}\n",
            seen.page_origin
        )),
    }
}

fn not_registry(seen: &Observed, what: &str) -> Diagnosis {
    let stop = if what.ends_with(['.', '?', '!']) {
        ""
    } else {
        "."
    };
    Diagnosis {
        kind: DiagnosisKind::NotRegistry,
        title: format!("{} does not look like a registry", seen.registry),
        explanation: format!(
            "{what}{stop} A Docker/OCI registry answers GET /v2/ with a JSON object (or 401 asking \
             for a login) and the header Docker-Distribution-API-Version: registry/2.0. Check \
             the URL: the registry's base, without /v2/, and the right port; a proxy in front \
             must forward /v2/ to the registry."
        ),
        snippet: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleanreg_core::RegistryError;

    const PAGE: &str = "http://127.0.0.1:8080";
    const REGISTRY: &str = "http://127.0.0.1:5000";

    fn observed(ping: PingFailure, simple: SimpleGet, opaque: Option<bool>) -> Observed {
        Observed {
            registry: REGISTRY.to_owned(),
            page_origin: PAGE.to_owned(),
            credentials_given: true,
            ping,
            simple,
            opaque,
        }
    }

    fn registry_answer(status: u16) -> Answer {
        Answer {
            status,
            api_version: None,
            challenge: None,
            content_type: Some("application/json; charset=utf-8".into()),
            json_object: true,
        }
    }

    fn kind(seen: &Observed) -> Option<&'static str> {
        classify(seen).map(|d| d.kind.key())
    }

    const NO_ANSWER: PingFailure = PingFailure::NoAnswer { realm: None };

    #[test]
    fn nothing_answering_is_unreachable() {
        let seen = observed(NO_ANSWER, SimpleGet::Threw, Some(false));
        let diagnosis = classify(&seen).unwrap();
        assert_eq!(diagnosis.kind.key(), "unreachable");
        assert!(diagnosis.explanation.contains("http://127.0.0.1:5000/v2/"));
        assert!(diagnosis.snippet.is_none());
    }

    #[test]
    fn an_opaque_answer_without_cors_headers_is_cors_with_the_origin_filled_in() {
        let seen = observed(NO_ANSWER, SimpleGet::Threw, Some(true));
        let diagnosis = classify(&seen).unwrap();
        assert_eq!(diagnosis.kind.key(), "cors");
        let snippet = diagnosis.snippet.unwrap();
        assert!(snippet.starts_with("http:\n  headers:\n"), "{snippet}");
        for needle in [
            "Access-Control-Allow-Origin: ['http://127.0.0.1:8080']",
            "Access-Control-Allow-Methods: ['HEAD, GET, OPTIONS, DELETE, POST, PUT']",
            "Access-Control-Allow-Headers: ['Authorization, Accept, Content-Type']",
            "Access-Control-Expose-Headers: ['Docker-Content-Digest, Link, WWW-Authenticate, Location']",
        ] {
            assert!(snippet.contains(needle), "{needle} missing in {snippet}");
        }
    }

    #[test]
    fn a_plain_answer_but_a_failed_authenticated_request_is_the_preflight() {
        let seen = observed(NO_ANSWER, SimpleGet::Answered(registry_answer(401)), None);
        let diagnosis = classify(&seen).unwrap();
        assert_eq!(diagnosis.kind.key(), "preflight");
        assert!(diagnosis.explanation.contains("OPTIONS"));
        assert!(diagnosis.explanation.contains("401"));
        let snippet = diagnosis.snippet.unwrap();
        assert!(snippet.contains("Fix (a)") && snippet.contains("Fix (b)"));
        assert!(snippet.contains("if ($request_method = OPTIONS)"));
        assert!(snippet.contains("return 204;"));
        assert!(
            snippet
                .contains("add_header Access-Control-Allow-Origin 'http://127.0.0.1:8080' always;")
        );
        assert!(snippet.contains("proxy_pass http://127.0.0.1:5000;"));
        assert!(snippet.contains("proxy_hide_header Access-Control-Allow-Origin;"));
        // No credentials, no Authorization header, no preflight.
        let mut seen = seen;
        seen.credentials_given = false;
        assert_eq!(kind(&seen), Some("unreachable"));
    }

    /// Writes the preflight fix for a real nginx check when asked:
    /// `CLEANREG_WRITE_SNIPPET=path cargo test -p cleanreg-app --lib snippet`.
    #[test]
    fn snippet_file_for_a_manual_nginx_check() {
        if let Ok(path) = std::env::var("CLEANREG_WRITE_SNIPPET") {
            std::fs::write(path, preflight_snippet(PAGE, REGISTRY)).unwrap();
        }
    }

    #[test]
    fn same_origin_failures_never_blame_cors() {
        let mut seen = observed(NO_ANSWER, SimpleGet::Threw, Some(true));
        seen.registry = format!("{PAGE}/");
        let diagnosis = classify(&seen).unwrap();
        assert_eq!(diagnosis.kind.key(), "unreachable");
        assert!(diagnosis.explanation.contains("forwards /v2/"));
        seen.simple = SimpleGet::Answered(registry_answer(401));
        assert_eq!(kind(&seen), Some("unreachable"));
        // A longer port is another origin.
        seen.registry = format!("{PAGE}0");
        assert_eq!(kind(&seen), Some("preflight"));
    }

    #[test]
    fn refusals_are_credentials_with_or_without_given_ones() {
        let mut seen = observed(
            PingFailure::Status { status: 401 },
            SimpleGet::NotTried,
            None,
        );
        let given = classify(&seen).unwrap();
        assert_eq!(given.kind.key(), "credentials");
        assert!(given.title.contains("refused"), "{}", given.title);
        seen.credentials_given = false;
        let missing = classify(&seen).unwrap();
        assert_eq!(missing.kind.key(), "credentials");
        assert!(
            missing.title.contains("needs credentials"),
            "{}",
            missing.title
        );
        seen.ping = PingFailure::Status { status: 403 };
        assert_eq!(kind(&seen), Some("credentials"));
    }

    #[test]
    fn a_token_server_refusing_is_credentials_naming_the_realm() {
        let seen = observed(
            PingFailure::TokenRefused {
                realm: "http://127.0.0.1:5001".into(),
                detail: "HTTP 401".into(),
            },
            SimpleGet::Answered(registry_answer(401)),
            None,
        );
        let diagnosis = classify(&seen).unwrap();
        assert_eq!(diagnosis.kind.key(), "credentials");
        assert!(diagnosis.title.contains("http://127.0.0.1:5001"));
    }

    #[test]
    fn html_and_404_are_not_a_registry() {
        let html = Answer {
            status: 200,
            api_version: None,
            challenge: None,
            content_type: Some("text/html".into()),
            json_object: false,
        };
        let seen = observed(
            PingFailure::NotRegistry {
                detail: "HTTP 200 with text/html instead of registry JSON".into(),
            },
            SimpleGet::Answered(html.clone()),
            None,
        );
        assert_eq!(kind(&seen), Some("not-registry"));
        let seen = observed(PingFailure::Status { status: 404 }, SimpleGet::Threw, None);
        assert_eq!(kind(&seen), Some("not-registry"));
        // Cross-origin, readable, but not a registry: not the preflight.
        let seen = observed(NO_ANSWER, SimpleGet::Answered(html), None);
        assert_eq!(kind(&seen), Some("not-registry"));
        // A visible API version settles it either way.
        let mut answer = registry_answer(200);
        answer.json_object = false;
        answer.api_version = Some("registry/2.0".into());
        assert!(answer.looks_like_registry());
        answer.api_version = Some("other/1".into());
        assert!(!answer.looks_like_registry());
    }

    #[test]
    fn other_statuses_of_a_real_registry_get_no_diagnosis() {
        let seen = observed(
            PingFailure::Status { status: 503 },
            SimpleGet::Answered(registry_answer(503)),
            None,
        );
        assert_eq!(kind(&seen), None);
    }

    #[test]
    fn core_errors_are_sorted_by_where_they_happened() {
        let network = Error::Network {
            request: "GET http://127.0.0.1:5000/v2/".into(),
            detail: "Failed to fetch".into(),
        };
        assert_eq!(
            PingFailure::of(&network, REGISTRY),
            PingFailure::NoAnswer { realm: None }
        );
        let token_network = Error::Network {
            request: "GET http://127.0.0.1:5001/token?service=r".into(),
            detail: "Failed to fetch".into(),
        };
        assert_eq!(
            PingFailure::of(&token_network, REGISTRY),
            PingFailure::NoAnswer {
                realm: Some("http://127.0.0.1:5001/token".into())
            }
        );
        let refused = Error::Protocol {
            request: "GET http://127.0.0.1:5001/token?service=r".into(),
            detail: "401".into(),
        };
        assert!(matches!(
            PingFailure::of(&refused, REGISTRY),
            PingFailure::TokenRefused { realm, .. } if realm == "http://127.0.0.1:5001/token"
        ));
        let same_origin_realm = Error::Protocol {
            request: "GET http://127.0.0.1:5000/auth/token?scope=x".into(),
            detail: "401".into(),
        };
        assert!(matches!(
            PingFailure::of(&same_origin_realm, REGISTRY),
            PingFailure::TokenRefused { realm, .. } if realm == "http://127.0.0.1:5000/auth/token"
        ));
        let status = Error::Registry(RegistryError {
            request: "GET http://127.0.0.1:5000/v2/".into(),
            status: 401,
            code: None,
            message: String::new(),
            not_registry: None,
        });
        assert_eq!(
            PingFailure::of(&status, REGISTRY),
            PingFailure::Status { status: 401 }
        );
        let html = Error::Protocol {
            request: "GET http://127.0.0.1:5000/v2/".into(),
            detail: "text/html".into(),
        };
        assert!(matches!(
            PingFailure::of(&html, REGISTRY),
            PingFailure::NotRegistry { .. }
        ));
    }

    #[test]
    fn delete_disabled_names_the_config_line() {
        let diagnosis = Diagnosis::delete_disabled(REGISTRY);
        assert_eq!(diagnosis.kind.key(), "delete-disabled");
        assert!(diagnosis.explanation.contains("405"));
        assert_eq!(
            diagnosis.snippet.as_deref(),
            Some("storage:\n  delete:\n    enabled: true\n")
        );
    }
}
