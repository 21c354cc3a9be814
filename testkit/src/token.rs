//! A small Docker token server (the "Bearer" flow of Docker Hub, Harbor and
//! GitLab) for a registry started with `auth: token`, so clients are tested
//! against the real registry's token checks. Every request is recorded.
//!
//! Tokens are ES256 JWTs whose header carries the signing certificate in
//! `x5c`; the registry trusts it through `rootcertbundle`
//! ([`TokenServer::cert_path`]), a self-signed certificate made per server.
//!
//! A token grants the intersection of what was asked and what the account
//! may. [`TokenUser::scoped`] makes an account like those of GitLab's token
//! service: no catalog, actions per named repository (some pull only), so
//! refused catalogs and missing delete permissions are tested for real.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use tempfile::TempDir;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::faulty::{FaultyServer, Reply, SeenRequest, lock};
use crate::registry::TokenAuth;

/// An account of the token server and what it may do on repositories.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenUser {
    /// Basic-auth username.
    pub username: String,
    /// Basic-auth password.
    pub password: String,
    /// Repository actions granted on every repository: `pull`, `push`,
    /// `delete`, or `*` for whatever is asked (including `*` itself).
    pub actions: Vec<String>,
    /// Whether `registry:catalog:*` is granted.
    pub catalog: bool,
    /// Actions per repository name, instead of `actions`, for the
    /// repositories named here (GitLab's and Harbor's per-project roles).
    pub per_repository: BTreeMap<String, Vec<String>>,
}

impl TokenUser {
    /// A user with these repository actions and the catalog.
    pub fn new(username: &str, password: &str, actions: &[&str]) -> TokenUser {
        TokenUser {
            username: username.to_owned(),
            password: password.to_owned(),
            actions: actions.iter().map(|&action| action.to_owned()).collect(),
            catalog: true,
            per_repository: BTreeMap::new(),
        }
    }

    /// A user as GitLab's token service sees a project developer: no
    /// catalog, nothing on repositories not named, and on each named one
    /// exactly the actions given (e.g. `pull,delete` on some, `pull` only
    /// on others).
    pub fn scoped(username: &str, password: &str, grants: &[(&str, &[&str])]) -> TokenUser {
        TokenUser {
            username: username.to_owned(),
            password: password.to_owned(),
            actions: Vec::new(),
            catalog: false,
            per_repository: grants
                .iter()
                .map(|(name, actions)| {
                    (
                        (*name).to_owned(),
                        actions.iter().map(|&action| action.to_owned()).collect(),
                    )
                })
                .collect(),
        }
    }

    /// Everything (`*`) on every repository, and the catalog.
    pub fn admin(username: &str, password: &str) -> TokenUser {
        TokenUser::new(username, password, &["*"])
    }

    /// `pull` on every repository, and the catalog.
    pub fn reader(username: &str, password: &str) -> TokenUser {
        TokenUser::new(username, password, &["pull"])
    }
}

impl fmt::Debug for TokenUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenUser")
            .field("username", &self.username)
            .field("password", &"***")
            .field("actions", &self.actions)
            .field("catalog", &self.catalog)
            .field("per_repository", &self.per_repository)
            .finish()
    }
}

/// How to configure the token server.
#[derive(Debug, Clone)]
pub struct TokenServerOptions {
    /// The registry's `service` (the JWT `aud`); a request naming another
    /// service (or none) gets 400.
    pub service: String,
    /// The JWT `iss`; the registry must be configured with the same.
    pub issuer: String,
    /// Accounts; a request with wrong or unknown basic credentials gets 401.
    pub users: Vec<TokenUser>,
    /// Whether a request without credentials gets `pull` on every
    /// repository (it never gets the catalog or anything else).
    pub anonymous_pull: bool,
    /// Lifetime of issued tokens in seconds (`expires_in`, `exp - iat`).
    pub expires_in: u64,
    /// Origin allowed to fetch tokens from a browser (CORS), if any.
    pub cors_origin: Option<String>,
}

impl Default for TokenServerOptions {
    fn default() -> Self {
        Self {
            service: "cleanreg-test-registry".to_owned(),
            issuer: "cleanreg-test-issuer".to_owned(),
            users: Vec::new(),
            anonymous_pull: false,
            expires_in: 300,
            cors_origin: None,
        }
    }
}

/// One entry of a token's `access` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    /// `repository` or `registry`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Repository name, or `catalog`.
    pub name: String,
    /// Granted actions.
    pub actions: Vec<String>,
}

impl Access {
    /// `repository:<name>:<actions>`.
    pub fn repository(name: &str, actions: &[&str]) -> Access {
        Access {
            kind: "repository".to_owned(),
            name: name.to_owned(),
            actions: actions.iter().map(|&action| action.to_owned()).collect(),
        }
    }

    /// `registry:catalog:*`.
    pub fn catalog() -> Access {
        Access {
            kind: "registry".to_owned(),
            name: "catalog".to_owned(),
            actions: vec!["*".to_owned()],
        }
    }

    /// Parses a scope such as `repository:team/app:pull,push`; the name may
    /// contain `:` (a registry host with port), a `type(class)` loses its
    /// class.
    pub fn parse_scope(scope: &str) -> Option<Access> {
        let (kind, rest) = scope.split_once(':')?;
        let (name, actions) = rest.rsplit_once(':')?;
        let kind = kind.split_once('(').map_or(kind, |(kind, _)| kind);
        if kind.is_empty() || name.is_empty() {
            return None;
        }
        Some(Access {
            kind: kind.to_owned(),
            name: name.to_owned(),
            actions: actions
                .split(',')
                .filter(|action| !action.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    }
}

/// A request the token server got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// e.g. `GET`.
    pub method: String,
    /// Path without query, e.g. `/token`.
    pub path: String,
    /// The `service` parameter.
    pub service: Option<String>,
    /// Every scope asked for, in order (`scope` parameters, each split at
    /// spaces).
    pub scopes: Vec<String>,
    /// Whether an `Authorization` header came.
    pub authorization: bool,
    /// The basic-auth username, when basic credentials came.
    pub username: Option<String>,
    /// The status answered.
    pub status: u16,
    /// What the issued token grants (empty when none was issued).
    pub granted: Vec<Access>,
}

#[derive(Default)]
struct Log {
    requests: Vec<TokenRequest>,
    issued: BTreeMap<String, usize>,
    total: usize,
}

struct Signer {
    key: EcdsaKeyPair,
    rng: SystemRandom,
    cert_der: Vec<u8>,
    spki_der: Vec<u8>,
}

struct State {
    options: TokenServerOptions,
    signer: Signer,
    issue_expired: AtomicBool,
    log: Mutex<Log>,
}

/// A running token server on a free loopback port; dropping it stops it and
/// removes its certificate file.
pub struct TokenServer {
    state: Arc<State>,
    cert_path: PathBuf,
    server: FaultyServer,
    _dir: TempDir,
}

impl fmt::Debug for TokenServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenServer")
            .field("realm", &self.realm())
            .field("options", &self.state.options)
            .finish_non_exhaustive()
    }
}

/// Distribution accepts `exp` and `nbf` up to this many seconds off.
const REGISTRY_LEEWAY_SECS: i64 = 60;

impl TokenServer {
    /// Generates a P-256 key and a self-signed certificate, writes the
    /// certificate PEM to a temporary file and starts serving `GET /token`.
    pub fn start(options: TokenServerOptions) -> io::Result<TokenServer> {
        let signer = Signer::generate(&options.issuer)?;
        let dir = tempfile::Builder::new()
            .prefix("cleanreg-token-")
            .tempdir()?;
        let cert_path = dir.path().join("token-cert.pem");
        std::fs::write(&cert_path, pem("CERTIFICATE", &signer.cert_der))?;
        let state = Arc::new(State {
            options,
            signer,
            issue_expired: AtomicBool::new(false),
            log: Mutex::new(Log::default()),
        });
        let server = {
            let state = Arc::clone(&state);
            FaultyServer::start(move |request| state.handle(request))?
        };
        Ok(TokenServer {
            state,
            cert_path,
            server,
            _dir: dir,
        })
    }

    /// The token endpoint, e.g. `http://127.0.0.1:41234/token`.
    pub fn realm(&self) -> String {
        format!("{}/token", self.server.url())
    }

    /// The service name (JWT `aud`).
    pub fn service(&self) -> &str {
        &self.state.options.service
    }

    /// The issuer (JWT `iss`).
    pub fn issuer(&self) -> &str {
        &self.state.options.issuer
    }

    /// PEM file of the signing certificate, for the registry's
    /// `rootcertbundle`.
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// What a registry needs to trust this server: pass it as
    /// `RegistryOptions::token_auth`.
    pub fn registry_auth(&self) -> TokenAuth {
        TokenAuth {
            realm: self.realm(),
            service: self.service().to_owned(),
            issuer: self.issuer().to_owned(),
            rootcertbundle: self.cert_path.clone(),
        }
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<TokenRequest> {
        lock(&self.state.log).requests.clone()
    }

    /// Tokens issued per requested scope string (a token asked for with
    /// several scopes counts once for each; one asked for with none counts
    /// under `""`).
    pub fn tokens_issued(&self) -> BTreeMap<String, usize> {
        lock(&self.state.log).issued.clone()
    }

    /// Tokens issued in all.
    pub fn tokens_total(&self) -> usize {
        lock(&self.state.log).total
    }

    /// From now on, issue tokens that expired well before they were issued
    /// (past the registry's 60 s leeway) while still announcing
    /// `expires_in`, so the registry refuses them; `false` returns to normal.
    pub fn set_issue_expired(&self, expired: bool) {
        self.state.issue_expired.store(expired, Ordering::SeqCst);
    }

    /// A token for `subject` with this access, valid from now for
    /// `expires_in` seconds (negative: already expired), signed like the
    /// ones the server issues.
    pub fn mint(&self, subject: &str, access: &[Access], expires_in: i64) -> String {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let claims = self.state.claims(subject, access, now, now + expires_in);
        self.sign(&claims)
    }

    /// Standard claims as the server would put them in a token, for tests
    /// that alter one before [`TokenServer::sign`].
    pub fn claims(&self, subject: &str, access: &[Access], expires_in: i64) -> serde_json::Value {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        self.state.claims(subject, access, now, now + expires_in)
    }

    /// Signs any claims with a header that carries the certificate (`x5c`).
    pub fn sign(&self, claims: &serde_json::Value) -> String {
        self.state.signer.x5c_jwt(claims)
    }

    /// Signs any claims with a header that names the key by its libtrust
    /// key ID (`kid`) instead of carrying the certificate.
    pub fn sign_with_kid(&self, claims: &serde_json::Value) -> String {
        let header = json!({
            "typ": "JWT",
            "alg": "ES256",
            "kid": self.key_id(),
        });
        self.state.signer.jwt(&header, claims)
    }

    /// The libtrust key ID of the signing key (`ABCD:EFGH:...`, 12 groups):
    /// base32 of the first 30 bytes of the SHA-256 of the DER public key.
    pub fn key_id(&self) -> String {
        let hash = Sha256::digest(&self.state.signer.spki_der);
        let encoded = base32(&hash[..30]);
        encoded
            .as_bytes()
            .chunks(4)
            .map(|group| String::from_utf8_lossy(group).into_owned())
            .collect::<Vec<_>>()
            .join(":")
    }
}

impl Signer {
    fn generate(issuer: &str) -> io::Result<Signer> {
        let key_pair = rcgen::KeyPair::generate().map_err(io::Error::other)?;
        let mut params =
            rcgen::CertificateParams::new(Vec::<String>::new()).map_err(io::Error::other)?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, issuer);
        let now = OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(365);
        let cert = params.self_signed(&key_pair).map_err(io::Error::other)?;
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &key_pair.serialize_der(),
            &rng,
        )
        .map_err(|err| io::Error::other(format!("loading the generated key: {err}")))?;
        Ok(Signer {
            key,
            rng,
            cert_der: cert.der().to_vec(),
            spki_der: rcgen::PublicKeyData::subject_public_key_info(&key_pair),
        })
    }

    /// A JWT whose header carries the certificate.
    fn x5c_jwt(&self, claims: &serde_json::Value) -> String {
        let header = json!({
            "typ": "JWT",
            "alg": "ES256",
            "x5c": [STANDARD.encode(&self.cert_der)],
        });
        self.jwt(&header, claims)
    }

    fn jwt(&self, header: &serde_json::Value, claims: &serde_json::Value) -> String {
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .key
            .sign(&self.rng, signing_input.as_bytes())
            .expect("ECDSA signing with a valid key does not fail");
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    fn random_hex(&self, len: usize) -> String {
        let mut bytes = vec![0; len];
        self.rng
            .fill(&mut bytes)
            .expect("the system random source works");
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

impl State {
    fn claims(&self, subject: &str, access: &[Access], iat: i64, exp: i64) -> serde_json::Value {
        json!({
            "iss": self.options.issuer,
            "sub": subject,
            "aud": self.options.service,
            "exp": exp,
            "nbf": iat,
            "iat": iat,
            "jti": self.signer.random_hex(16),
            "access": access,
        })
    }

    fn handle(&self, request: &SeenRequest) -> Reply {
        let params = request.query_pairs();
        let service = params
            .iter()
            .find(|(name, _)| name == "service")
            .map(|(_, value)| value.clone());
        let scopes: Vec<String> = params
            .iter()
            .filter(|(name, _)| name == "scope")
            .flat_map(|(_, value)| value.split_whitespace().map(str::to_owned))
            .collect();
        let authorization = request.header("Authorization");
        let basic = authorization.and_then(decode_basic);
        let mut record = TokenRequest {
            method: request.method.clone(),
            path: request.path().to_owned(),
            service: service.clone(),
            scopes: scopes.clone(),
            authorization: authorization.is_some(),
            username: basic.as_ref().map(|(user, _)| user.clone()),
            status: 0,
            granted: Vec::new(),
        };

        let reply = self.answer(request, service.as_deref(), &scopes, authorization, basic);
        let reply = match reply {
            Ok((granted, reply)) => {
                let mut log = lock(&self.log);
                log.total += 1;
                if scopes.is_empty() {
                    *log.issued.entry(String::new()).or_default() += 1;
                }
                for scope in &scopes {
                    *log.issued.entry(scope.clone()).or_default() += 1;
                }
                record.status = 200;
                record.granted = granted;
                log.requests.push(record);
                reply
            }
            Err(reply) => {
                record.status = reply.status_code();
                lock(&self.log).requests.push(record);
                reply
            }
        };
        self.with_cors(reply)
    }

    /// The token and its grants, or the error reply.
    fn answer(
        &self,
        request: &SeenRequest,
        service: Option<&str>,
        scopes: &[String],
        authorization: Option<&str>,
        basic: Option<(String, String)>,
    ) -> Result<(Vec<Access>, Reply), Reply> {
        if request.method == "OPTIONS" && self.options.cors_origin.is_some() {
            return Err(Reply::new(204));
        }
        if request.path() != "/token" {
            return Err(error(404, "NOT_FOUND", "only /token is served here"));
        }
        if request.method != "GET" {
            return Err(error(405, "UNSUPPORTED", "only GET /token is supported"));
        }
        if service != Some(self.options.service.as_str()) {
            return Err(error(
                400,
                "INVALID_REQUEST",
                &format!(
                    "service must be {:?}, got {service:?}",
                    self.options.service
                ),
            ));
        }
        let user = match (authorization, basic) {
            (None, _) => None,
            (Some(_), Some((username, password))) => {
                let user = self
                    .options
                    .users
                    .iter()
                    .find(|user| user.username == username && user.password == password);
                match user {
                    Some(user) => Some(user),
                    None => {
                        return Err(error(401, "UNAUTHORIZED", "incorrect username or password"));
                    }
                }
            }
            (Some(_), None) => {
                return Err(error(
                    401,
                    "UNAUTHORIZED",
                    "only Basic credentials are accepted",
                ));
            }
        };
        let granted: Vec<Access> = scopes
            .iter()
            .filter_map(|scope| Access::parse_scope(scope))
            .filter_map(|wanted| self.grant(user, wanted))
            .collect();

        let now = OffsetDateTime::now_utc();
        let iat = now.unix_timestamp();
        let expires_in = i64::try_from(self.options.expires_in).unwrap_or(i64::MAX / 2);
        let (iat, exp) = if self.issue_expired.load(Ordering::SeqCst) {
            let exp = iat - 10 * REGISTRY_LEEWAY_SECS;
            (exp - expires_in, exp)
        } else {
            (iat, iat.saturating_add(expires_in))
        };
        let subject = user.map_or("", |user| user.username.as_str());
        let token = self
            .signer
            .x5c_jwt(&self.claims(subject, &granted, iat, exp));
        let body = json!({
            "token": token,
            "access_token": token,
            "expires_in": self.options.expires_in,
            "issued_at": now.format(&Rfc3339).expect("a current time formats as RFC 3339"),
        });
        Ok((granted, Reply::json(200, &body)))
    }

    /// What of `wanted` this account gets, if anything: the intersection of
    /// what is asked and what the account may, as the Docker token spec
    /// ("Token Authentication Specification", "Requesting a Token") and
    /// GitLab's `Auth::ContainerRegistryAuthenticationService` answer: a
    /// scope it will not grant is left out of the token, never an error.
    fn grant(&self, user: Option<&TokenUser>, wanted: Access) -> Option<Access> {
        let allowed: Vec<&str> = match (wanted.kind.as_str(), user) {
            ("repository", Some(user)) => user
                .per_repository
                .get(&wanted.name)
                .unwrap_or(&user.actions)
                .iter()
                .map(String::as_str)
                .collect(),
            ("repository", None) if self.options.anonymous_pull => vec!["pull"],
            ("registry", Some(user)) if wanted.name == "catalog" && user.catalog => vec!["*"],
            _ => Vec::new(),
        };
        let actions: Vec<String> = wanted
            .actions
            .into_iter()
            .filter(|action| allowed.contains(&"*") || allowed.contains(&action.as_str()))
            .collect();
        (!actions.is_empty()).then_some(Access { actions, ..wanted })
    }

    fn with_cors(&self, reply: Reply) -> Reply {
        match &self.options.cors_origin {
            Some(origin) => reply
                .header("Access-Control-Allow-Origin", origin.as_str())
                .header("Access-Control-Allow-Methods", "GET, OPTIONS")
                .header("Access-Control-Allow-Headers", "Authorization")
                .header("Vary", "Origin"),
            None => reply,
        }
    }
}

/// A JSON error in the registry's format.
fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        &json!({
            "errors": [{"code": code, "message": message}],
            "details": message,
        }),
    )
}

/// `Basic base64(user:password)` into its parts.
fn decode_basic(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn pem(label: &str, der: &[u8]) -> String {
    let encoded = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// RFC 4648 base32 (upper case, `=` padding dropped), as libtrust uses.
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_matches_rfc4648() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"fo"), "MZXQ");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
    }

    #[test]
    fn scopes_parse_with_ports_and_classes() {
        assert_eq!(
            Access::parse_scope("repository:team/app:pull,push"),
            Some(Access::repository("team/app", &["pull", "push"]))
        );
        assert_eq!(
            Access::parse_scope("repository:localhost:5000/app:pull"),
            Some(Access::repository("localhost:5000/app", &["pull"]))
        );
        assert_eq!(
            Access::parse_scope("repository(plugin):x:pull"),
            Some(Access::repository("x", &["pull"]))
        );
        assert_eq!(
            Access::parse_scope("registry:catalog:*"),
            Some(Access::catalog())
        );
        assert_eq!(Access::parse_scope("nonsense"), None);
    }

    #[test]
    fn basic_credentials_decode() {
        assert_eq!(
            decode_basic("Basic YWRtaW46czNjOnJldA=="),
            Some(("admin".to_owned(), "s3c:ret".to_owned()))
        );
        assert_eq!(decode_basic("Bearer abc"), None);
    }
}
