//! The registry API as pure request builders and response parsers.
//!
//! Every manifest request accepts all four manifest types (Docker schema2
//! and manifest list, OCI manifest and index), so the registry never
//! substitutes a platform's child or a down-converted manifest for what was
//! pushed. A manifest's digest is the sha256 of the exact bytes received; a
//! `Docker-Content-Digest` the answer shows must agree.
//!
//! Answers are bounded: a manifest at 4 MiB ([`MAX_MANIFEST_BYTES`], what
//! Distribution accepts in a push), any answer at 64 MiB ([`MAX_BODY_BYTES`],
//! enforced by both transports). Tag lists are asked for in pages of
//! [`TAG_PAGE`] (1000, Distribution 3's default `tags.maxtags`; 2.x ignores
//! it), and a page with `"tags": null` and no `Link` ends the list. The
//! client adds the other limits (5 redirects, 100,000 pages, `Link` loops,
//! index depth 8); `SECURITY.md` lists them all.

use std::fmt;
use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use serde::Deserialize;

use crate::digest::Digest;
use crate::error::{Error, RegistryError};
use crate::manifest::{Descriptor, Manifest, parse_manifest};
use crate::media_type::{ManifestKind, MediaType};
use crate::name::{RepositoryName, Tag};

/// Repositories asked for per catalog page; every registry accepts 100.
pub const CATALOG_PAGE: usize = 100;

/// Tags asked for per tag list page: Distribution 3's default maximum
/// (`tags.maxtags`). 2.x ignores it and sends every tag; 3.x without `n`
/// would too, but pages keep each answer bounded.
pub const TAG_PAGE: usize = 1000;

/// The base URL of a registry: `http(s)://host[:port][/prefix]`, no trailing `/`.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistryUrl {
    base: String,
    origin_len: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid registry URL {0:?}: expected http://host:port or https://host")]
pub struct UrlError(String);

impl RegistryUrl {
    pub fn parse(text: &str) -> Result<RegistryUrl, UrlError> {
        let base = text.trim().trim_end_matches('/');
        let rest = base
            .strip_prefix("http://")
            .or_else(|| base.strip_prefix("https://"))
            .ok_or_else(|| UrlError(text.to_owned()))?;
        let host_len = rest.find('/').unwrap_or(rest.len());
        let host = &rest[..host_len];
        let bad_char = |c: char| c.is_whitespace() || matches!(c, '?' | '#' | '@');
        if host.is_empty() || base.contains(bad_char) {
            return Err(UrlError(text.to_owned()));
        }
        Ok(RegistryUrl {
            base: base.to_owned(),
            origin_len: base.len() - rest.len() + host_len,
        })
    }

    /// `scheme://host:port`, the only place credentials may go.
    pub fn origin(&self) -> &str {
        &self.base[..self.origin_len]
    }

    pub fn as_str(&self) -> &str {
        &self.base
    }

    fn join(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Resolves a `Link` or `Location` target; `None` when it leaves the
    /// registry's origin (credentials must not follow it).
    pub fn resolve(&self, target: &str) -> Option<String> {
        if target.starts_with('/') && !target.starts_with("//") {
            Some(format!("{}{target}", self.origin()))
        } else if same_origin(target, self.origin()) {
            Some(target.to_owned())
        } else {
            None
        }
    }
}

/// Whether `url` lies on `origin` (`scheme://host:port`).
pub fn same_origin(url: &str, origin: &str) -> bool {
    url.strip_prefix(origin)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
}

impl fmt::Display for RegistryUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)
    }
}

impl fmt::Debug for RegistryUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegistryUrl({})", self.base)
    }
}

/// What to fetch a manifest by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    Tag(Tag),
    Digest(Digest),
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Tag(tag) => tag.fmt(f),
            Reference::Digest(digest) => digest.fmt(f),
        }
    }
}

fn get(url: String) -> Request<Vec<u8>> {
    request(Method::GET, url)
}

fn request(method: Method, url: String) -> Request<Vec<u8>> {
    Request::builder()
        .method(method)
        .uri(url)
        .body(Vec::new())
        .expect("a method and a URL built from validated names form a valid request")
}

/// `GET /v2/`: is this a registry, and do the credentials work?
pub fn ping(registry: &RegistryUrl) -> Request<Vec<u8>> {
    get(registry.join("/v2/"))
}

/// The first catalog page.
pub fn catalog(registry: &RegistryUrl) -> Request<Vec<u8>> {
    get(registry.join(&format!("/v2/_catalog?n={CATALOG_PAGE}")))
}

/// The first page of a repository's tags, [`TAG_PAGE`] of them.
pub fn tags(registry: &RegistryUrl, repository: &RepositoryName) -> Request<Vec<u8>> {
    get(registry.join(&format!("/v2/{repository}/tags/list?n={TAG_PAGE}")))
}

/// The first page of a repository's tags, its size left to the registry:
/// for a registry that refuses [`TAG_PAGE`] as too many.
pub fn tags_unsized(registry: &RegistryUrl, repository: &RepositoryName) -> Request<Vec<u8>> {
    get(registry.join(&format!("/v2/{repository}/tags/list")))
}

/// A following page, from the previous page's `Link` header.
pub fn next_page(url: String) -> Request<Vec<u8>> {
    get(url)
}

/// A manifest, accepting every manifest type so the registry answers with
/// what the reference really points at.
pub fn manifest(
    registry: &RegistryUrl,
    repository: &RepositoryName,
    reference: &Reference,
) -> Request<Vec<u8>> {
    let mut request = get(registry.join(&format!("/v2/{repository}/manifests/{reference}")));
    let accept = MediaType::ACCEPTED_MANIFESTS
        .iter()
        .map(MediaType::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    request.headers_mut().insert(
        http::header::ACCEPT,
        accept.parse().expect("media types are valid header text"),
    );
    request
}

/// A blob, such as an image config.
pub fn blob(
    registry: &RegistryUrl,
    repository: &RepositoryName,
    digest: &Digest,
) -> Request<Vec<u8>> {
    get(registry.join(&format!("/v2/{repository}/blobs/{digest}")))
}

/// The first page of the manifests whose `subject` is `digest`, through the
/// OCI 1.1 referrers API (distribution-spec v1.1, "Listing Referrers"). A
/// registry that serves it answers with an OCI image index; one that does
/// not answers 404.
pub fn referrers(
    registry: &RegistryUrl,
    repository: &RepositoryName,
    digest: &Digest,
) -> Request<Vec<u8>> {
    let mut request = get(registry.join(&format!("/v2/{repository}/referrers/{digest}")));
    request.headers_mut().insert(
        http::header::ACCEPT,
        MediaType::OciIndex
            .as_str()
            .parse()
            .expect("a media type is valid header text"),
    );
    request
}

/// One page of a referrers answer: the descriptors of the referrers (each
/// with its `artifactType`) and the next page's URL. The answer must be an
/// OCI image index.
pub fn parse_referrers(
    request: &str,
    response: &Response<Vec<u8>>,
) -> Result<(Vec<Descriptor>, Option<String>), Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ReferrersIndex {
        #[serde(default)]
        media_type: Option<String>,
        manifests: Vec<Descriptor>,
    }
    check(request, response)?;
    let page: ReferrersIndex = serde_json::from_slice(response.body())
        .map_err(|e| not_registry_json(request, response, &e))?;
    if let Some(other) = page
        .media_type
        .as_deref()
        .filter(|own| *own != MediaType::OciIndex.as_str())
    {
        return Err(protocol_error(
            request,
            format!(
                "a referrers answer must be an OCI image index, not {other:?}; the registry does not follow distribution-spec 1.1"
            ),
        ));
    }
    Ok((page.manifests, next_link(response)))
}

/// `HEAD` of a manifest by digest: does the registry still have it?
pub fn manifest_head(
    registry: &RegistryUrl,
    repository: &RepositoryName,
    digest: &Digest,
) -> Request<Vec<u8>> {
    let mut request = manifest(registry, repository, &Reference::Digest(digest.clone()));
    *request.method_mut() = Method::HEAD;
    request
}

/// Deletes a manifest, always by digest (a tag there is rejected).
pub fn delete_manifest(
    registry: &RegistryUrl,
    repository: &RepositoryName,
    digest: &Digest,
) -> Request<Vec<u8>> {
    request(
        Method::DELETE,
        registry.join(&format!("/v2/{repository}/manifests/{digest}")),
    )
}

/// Removes one tag, leaving its manifest and the manifest's other tags
/// (OCI distribution-spec, "Deleting tags"; Distribution 3 answers 202).
/// Registries without it answer an error, such as Distribution 2.x's
/// 400 `DIGEST_INVALID`.
pub fn delete_tag(
    registry: &RegistryUrl,
    repository: &RepositoryName,
    tag: &Tag,
) -> Request<Vec<u8>> {
    request(
        Method::DELETE,
        registry.join(&format!("/v2/{repository}/manifests/{tag}")),
    )
}

/// `HEAD` of a manifest by tag: where does the tag point now?
pub fn tag_head(
    registry: &RegistryUrl,
    repository: &RepositoryName,
    tag: &Tag,
) -> Request<Vec<u8>> {
    let mut request = manifest(registry, repository, &Reference::Tag(tag.clone()));
    *request.method_mut() = Method::HEAD;
    request
}

/// Reads a manifest `HEAD` by tag: `Ok(None)` when the tag is gone, the
/// digest from `Docker-Content-Digest` when the answer shows one, and an
/// error otherwise (the caller then reads the manifest).
pub fn parse_tag_head(
    request: &str,
    response: &Response<Vec<u8>>,
) -> Result<Option<Option<Digest>>, Error> {
    if response.status() == StatusCode::NOT_FOUND {
        return Ok(None);
    }
    check(request, response)?;
    Ok(Some(
        response
            .headers()
            .get("docker-content-digest")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse().ok()),
    ))
}

/// Starts a blob upload (`POST /v2/<name>/blobs/uploads/`).
pub fn start_upload(registry: &RegistryUrl, repository: &RepositoryName) -> Request<Vec<u8>> {
    request(
        Method::POST,
        registry.join(&format!("/v2/{repository}/blobs/uploads/")),
    )
}

/// Reads the answer to [`start_upload`]: 202 with the upload's `Location`,
/// resolved against the registry (an upload elsewhere is refused: the
/// credentials would follow it).
pub fn parse_start_upload(
    registry: &RegistryUrl,
    request: &str,
    response: &Response<Vec<u8>>,
) -> Result<String, Error> {
    check(request, response)?;
    if response.status() != StatusCode::ACCEPTED {
        return Err(protocol_error(
            request,
            format!("expected 202 Accepted, got {}", response.status()),
        ));
    }
    let location = response
        .headers()
        .get(http::header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| protocol_error(request, "the upload answer has no Location"))?;
    registry.resolve(location).ok_or_else(|| {
        protocol_error(
            request,
            format!("the upload location {location} lies outside the registry; not followed"),
        )
    })
}

/// Finishes an upload in one `PUT` with the whole blob and its digest.
pub fn finish_upload(location: &str, digest: &Digest, body: Vec<u8>) -> Request<Vec<u8>> {
    let separator = if location.contains('?') { '&' } else { '?' };
    let mut request = request(Method::PUT, format!("{location}{separator}digest={digest}"));
    request.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/octet-stream"),
    );
    *request.body_mut() = body;
    request
}

/// Reads the answer to [`finish_upload`]: 201 Created.
pub fn parse_finish_upload(request: &str, response: &Response<Vec<u8>>) -> Result<(), Error> {
    check(request, response)?;
    if response.status() != StatusCode::CREATED {
        return Err(protocol_error(
            request,
            format!("expected 201 Created, got {}", response.status()),
        ));
    }
    Ok(())
}

/// A request in messages: `GET http://host:5000/v2/team/app/tags/list`.
pub fn describe(request: &Request<Vec<u8>>) -> String {
    format!("{} {}", request.method(), request.uri())
}

/// Turns an error status into an [`Error`]; passes the rest through.
pub fn check(request: &str, response: &Response<Vec<u8>>) -> Result<(), Error> {
    if response.status().is_success() {
        Ok(())
    } else {
        Err(Error::Registry(RegistryError::from_response(
            request.to_owned(),
            response.status().as_u16(),
            content_type(response),
            response.body(),
        )))
    }
}

fn content_type(response: &Response<Vec<u8>>) -> Option<&str> {
    response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
}

/// Says what came back instead of the JSON a registry sends: its type and
/// its first characters, so a proxy's HTML page or a cut-off body is plain.
pub fn not_registry_json(
    request: &str,
    response: &Response<Vec<u8>>,
    error: &serde_json::Error,
) -> Error {
    let what = if error.is_eof() {
        format!("a JSON body cut off after {} bytes", response.body().len())
    } else {
        format!(
            "{} instead of registry JSON ({error})",
            content_type(response).unwrap_or("a body without Content-Type")
        )
    };
    protocol_error(
        request,
        format!(
            "HTTP {} with {what}: {}; is this URL a registry, or is a proxy in between answering?",
            response.status().as_u16(),
            crate::error::excerpt(response.body())
        ),
    )
}

/// How long a 429 or 503 asks to wait: `Retry-After` in seconds or as an
/// HTTP date.
pub fn retry_after(response: &Response<Vec<u8>>, now: time::OffsetDateTime) -> Option<Duration> {
    let value = response
        .headers()
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let when = time::PrimitiveDateTime::parse(value, &format)
        .ok()?
        .assume_utc();
    let wait = when - now;
    Some(Duration::from_secs_f64(wait.as_seconds_f64().max(0.0)))
}

fn protocol_error(request: &str, detail: impl fmt::Display) -> Error {
    Error::Protocol {
        request: request.to_owned(),
        detail: detail.to_string(),
    }
}

/// Reads the `/v2/` answer. A registry says `Docker-Distribution-Api-Version:
/// registry/2.0` (a browser may not see it across origins) and answers a JSON
/// object; a login page or a web server's index page is neither.
pub fn parse_ping(request: &str, response: &Response<Vec<u8>>) -> Result<(), Error> {
    check(request, response)?;
    let version = response
        .headers()
        .get("docker-distribution-api-version")
        .and_then(|v| v.to_str().ok());
    match version {
        Some(v) if !v.starts_with("registry/2.") => Err(protocol_error(
            request,
            format!("unsupported API version {v}"),
        )),
        Some(_) => Ok(()),
        None => match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(
            response.body(),
        ) {
            Ok(_) => Ok(()),
            Err(error) => Err(not_registry_json(request, response, &error)),
        },
    }
}

/// The `rel="next"` target of a `Link` header, if any.
pub fn next_link(response: &Response<Vec<u8>>) -> Option<String> {
    response
        .headers()
        .get_all(http::header::LINK)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(|link| {
            let (target, params) = link.trim().split_once(';')?;
            let is_next = params.split(';').any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            });
            let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
            is_next.then(|| target.to_owned())
        })
}

/// One catalog page: repository names and the next page's URL.
pub fn parse_catalog(
    request: &str,
    response: &Response<Vec<u8>>,
) -> Result<(Vec<RepositoryName>, Option<String>), Error> {
    #[derive(Deserialize)]
    struct Catalog {
        #[serde(default)]
        repositories: Option<Vec<String>>,
    }
    check(request, response)?;
    let page: Catalog = serde_json::from_slice(response.body())
        .map_err(|e| not_registry_json(request, response, &e))?;
    let names = page
        .repositories
        .unwrap_or_default()
        .iter()
        .map(|name| name.parse().map_err(|e| protocol_error(request, e)))
        .collect::<Result<_, _>>()?;
    Ok((names, next_link(response)))
}

/// One tag page: tags and the next page's URL. A repository whose tags were
/// all deleted answers `"tags": null`.
pub fn parse_tags(
    request: &str,
    response: &Response<Vec<u8>>,
) -> Result<(Vec<Tag>, Option<String>), Error> {
    #[derive(Deserialize)]
    struct TagList {
        #[serde(default)]
        tags: Option<Vec<String>>,
    }
    check(request, response)?;
    let page: TagList = serde_json::from_slice(response.body())
        .map_err(|e| not_registry_json(request, response, &e))?;
    let tags = page
        .tags
        .unwrap_or_default()
        .iter()
        .map(|tag| tag.parse().map_err(|e| protocol_error(request, e)))
        .collect::<Result<_, _>>()?;
    Ok((tags, next_link(response)))
}

/// The largest manifest read: what Distribution itself accepts in a PUT.
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;

/// The largest answer of any kind the CLI and the dashboard read (catalog
/// and tag pages, configs, tokens, manifests); a longer one is refused.
pub const MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;

/// A manifest as fetched: its digest, type and content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedManifest {
    pub digest: Digest,
    pub media_type: MediaType,
    pub manifest: Manifest,
    /// Length of the manifest bytes.
    pub size: u64,
}

/// Reads a manifest answer. The digest is the sha256 of the exact bytes
/// (a browser may not see `Docker-Content-Digest`); when the header is
/// visible it must agree.
pub fn parse_manifest_response(
    request: &str,
    reference: &Reference,
    response: &Response<Vec<u8>>,
) -> Result<FetchedManifest, Error> {
    check(request, response)?;
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let body = response.body();
    if body.len() > MAX_MANIFEST_BYTES {
        return Err(protocol_error(
            request,
            format!(
                "the manifest is {} bytes, more than the {} MiB a registry accepts; refused",
                body.len(),
                MAX_MANIFEST_BYTES / (1024 * 1024)
            ),
        ));
    }
    if let Err(error) = serde_json::from_slice::<serde::de::IgnoredAny>(body) {
        return Err(not_registry_json(request, response, &error));
    }
    let (media_type, manifest) =
        parse_manifest(content_type, body).map_err(|e| protocol_error(request, e))?;
    let header_digest = match response.headers().get("docker-content-digest") {
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.parse::<Digest>().ok())
                .ok_or_else(|| protocol_error(request, "malformed Docker-Content-Digest"))?,
        ),
        None => None,
    };
    let digest = match (media_type.manifest_kind(), header_digest) {
        // Signed schema1 is hashed without its signature: trust the header.
        (ManifestKind::Schema1, Some(header)) => header,
        (_, Some(header)) if !header.matches(body) => {
            return Err(protocol_error(
                request,
                format!("Docker-Content-Digest {header} does not match the manifest bytes"),
            ));
        }
        (_, Some(header)) => header,
        (_, None) => Digest::sha256_of(body),
    };
    if let Reference::Digest(asked) = reference
        && *asked != digest
        && media_type.manifest_kind() != ManifestKind::Schema1
    {
        return Err(protocol_error(
            request,
            format!("asked for {asked}, got a manifest with digest {digest}"),
        ));
    }
    Ok(FetchedManifest {
        digest,
        media_type,
        manifest,
        size: body.len() as u64,
    })
}

/// Reads a blob answer and checks its bytes against the digest asked for.
pub fn parse_blob<'a>(
    request: &str,
    digest: &Digest,
    response: &'a Response<Vec<u8>>,
) -> Result<&'a [u8], Error> {
    check(request, response)?;
    if !digest.matches(response.body()) {
        return Err(protocol_error(
            request,
            format!("blob bytes do not match {digest}"),
        ));
    }
    Ok(response.body())
}

/// Reads a manifest `HEAD`: 200 means present, 404 gone.
pub fn parse_manifest_head(request: &str, response: &Response<Vec<u8>>) -> Result<bool, Error> {
    if response.status() == StatusCode::NOT_FOUND {
        return Ok(false);
    }
    check(request, response)?;
    Ok(true)
}

/// Reads a DELETE answer: 202 Accepted is the only success.
pub fn parse_delete(request: &str, response: &Response<Vec<u8>>) -> Result<(), Error> {
    check(request, response)?;
    if response.status() != StatusCode::ACCEPTED {
        return Err(protocol_error(
            request,
            format!("expected 202 Accepted, got {}", response.status()),
        ));
    }
    Ok(())
}

/// Puts a manifest's exact bytes under a tag or digest, with its media type
/// as `Content-Type`. Fails only when the media type cannot be a header.
pub fn put_manifest(
    registry: &RegistryUrl,
    repository: &RepositoryName,
    reference: &Reference,
    media_type: &MediaType,
    body: Vec<u8>,
) -> Result<Request<Vec<u8>>, Error> {
    let url = registry.join(&format!("/v2/{repository}/manifests/{reference}"));
    let content_type = http::HeaderValue::from_str(media_type.as_str())
        .ok()
        .filter(|_| !media_type.as_str().is_empty())
        .ok_or_else(|| {
            protocol_error(
                &format!("PUT {url}"),
                format!("the media type {media_type:?} cannot be sent as a Content-Type"),
            )
        })?;
    let mut request = request(Method::PUT, url);
    request
        .headers_mut()
        .insert(http::header::CONTENT_TYPE, content_type);
    *request.body_mut() = body;
    Ok(request)
}

/// Reads a manifest PUT answer: 201 Created, and a visible
/// `Docker-Content-Digest` must be the digest of the bytes sent (a browser
/// may not see the header; then the status alone counts).
pub fn parse_put_manifest(
    request: &str,
    expected: &Digest,
    response: &Response<Vec<u8>>,
) -> Result<(), Error> {
    check(request, response)?;
    if response.status() != StatusCode::CREATED {
        return Err(protocol_error(
            request,
            format!("expected 201 Created, got {}", response.status()),
        ));
    }
    match response.headers().get("docker-content-digest") {
        None => Ok(()),
        Some(value) => match value.to_str().ok().and_then(|v| v.parse::<Digest>().ok()) {
            Some(answered) if answered == *expected => Ok(()),
            Some(answered) => Err(protocol_error(
                request,
                format!("the registry stored it as {answered}, expected {expected}"),
            )),
            None => Err(protocol_error(request, "malformed Docker-Content-Digest")),
        },
    }
}

/// `HEAD` of a blob: does the repository still link it?
pub fn blob_head(
    registry: &RegistryUrl,
    repository: &RepositoryName,
    digest: &Digest,
) -> Request<Vec<u8>> {
    let mut request = blob(registry, repository, digest);
    *request.method_mut() = Method::HEAD;
    request
}

/// Reads a blob `HEAD`: 200 means present, 404 gone.
pub fn parse_blob_head(request: &str, response: &Response<Vec<u8>>) -> Result<bool, Error> {
    parse_manifest_head(request, response)
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_oversized_manifest_is_refused() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","annotations":{{"x":"{}"}}}}"#,
            "a".repeat(MAX_MANIFEST_BYTES)
        );
        let response = Response::builder()
            .status(200)
            .header("content-type", "application/vnd.oci.image.manifest.v1+json")
            .body(body.into_bytes())
            .unwrap();
        let error =
            parse_manifest_response("GET x", &Reference::Tag("v1".parse().unwrap()), &response)
                .unwrap_err()
                .to_string();
        assert!(
            error.contains("more than the 4 MiB a registry accepts"),
            "{error}"
        );
    }
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response<Vec<u8>> {
        let mut builder = Response::builder().status(status);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(body.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn registry_urls_are_checked_and_normalised() {
        let url = RegistryUrl::parse("http://127.0.0.1:5000/").unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:5000");
        assert_eq!(url.origin(), "http://127.0.0.1:5000");
        let prefixed = RegistryUrl::parse("https://host/registry").unwrap();
        assert_eq!(prefixed.origin(), "https://host");
        for bad in [
            "",
            "127.0.0.1:5000",
            "ftp://x",
            "http://",
            "http://u:p@host",
            "http://a b",
        ] {
            assert!(RegistryUrl::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn links_resolve_only_within_the_registry_origin() {
        let url = RegistryUrl::parse("http://127.0.0.1:5000").unwrap();
        assert_eq!(
            url.resolve("/v2/_catalog?last=b&n=100").as_deref(),
            Some("http://127.0.0.1:5000/v2/_catalog?last=b&n=100")
        );
        assert!(url.resolve("http://127.0.0.1:5000/v2/x").is_some());
        assert_eq!(url.resolve("http://127.0.0.1:50001/v2/x"), None);
        assert_eq!(url.resolve("//evil.example/v2/"), None);
        assert_eq!(url.resolve("https://evil.example/v2/"), None);
    }

    #[test]
    fn builds_requests_with_every_manifest_type_accepted() {
        let url = RegistryUrl::parse("http://r:1").unwrap();
        let repo: RepositoryName = "team/app".parse().unwrap();
        let req = manifest(&url, &repo, &Reference::Tag("latest".parse().unwrap()));
        assert_eq!(req.uri(), "http://r:1/v2/team/app/manifests/latest");
        let accept = req.headers()["accept"].to_str().unwrap();
        for t in MediaType::ACCEPTED_MANIFESTS {
            assert!(accept.contains(t.as_str()), "{accept}");
        }
        let digest = Digest::sha256_of(b"m");
        let del = delete_manifest(&url, &repo, &digest);
        assert_eq!(del.method(), Method::DELETE);
        assert_eq!(
            describe(&del),
            format!("DELETE http://r:1/v2/team/app/manifests/{digest}")
        );
        let head = manifest_head(&url, &repo, &digest);
        assert_eq!(head.method(), Method::HEAD);
        assert!(head.headers().contains_key("accept"));
        assert_eq!(catalog(&url).uri(), "http://r:1/v2/_catalog?n=100");
    }

    #[test]
    fn reads_pages_and_their_next_links() {
        let page = response(
            200,
            &[("link", "</v2/_catalog?last=b&n=2>; rel=\"next\"")],
            r#"{"repositories":["a","b"]}"#,
        );
        let (names, next) = parse_catalog("GET", &page).unwrap();
        assert_eq!(names.len(), 2);
        assert_eq!(next.as_deref(), Some("/v2/_catalog?last=b&n=2"));
        let (tags, next) =
            parse_tags("GET", &response(200, &[], r#"{"name":"a","tags":null}"#)).unwrap();
        assert!(tags.is_empty() && next.is_none());
        assert!(parse_tags("GET", &response(200, &[], r#"{"tags":["bad tag"]}"#)).is_err());
    }

    #[test]
    fn a_manifest_digest_is_computed_and_checked_against_the_header() {
        let body = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
        let digest = Digest::sha256_of(body.as_bytes());
        let tag = Reference::Tag("latest".parse().unwrap());
        let plain = parse_manifest_response("GET", &tag, &response(200, &[], body)).unwrap();
        assert_eq!(plain.digest, digest);
        let digest_text = digest.to_string();
        let agreeing = response(200, &[("docker-content-digest", &digest_text)], body);
        assert!(parse_manifest_response("GET", &tag, &agreeing).is_ok());
        let other = Digest::sha256_of(b"other").to_string();
        let lying = response(200, &[("docker-content-digest", &other)], body);
        assert!(parse_manifest_response("GET", &tag, &lying).is_err());
        let wrong_ref = Reference::Digest(Digest::sha256_of(b"other"));
        assert!(parse_manifest_response("GET", &wrong_ref, &response(200, &[], body)).is_err());
    }

    #[test]
    fn a_ping_must_look_like_a_registry() {
        let registry = response(
            200,
            &[("docker-distribution-api-version", "registry/2.0")],
            "{}",
        );
        assert!(parse_ping("GET /v2/", &registry).is_ok());
        assert!(parse_ping("GET /v2/", &response(200, &[], "{}")).is_ok());
        let page = response(
            200,
            &[("content-type", "text/html")],
            "<!doctype html><title>Login</title>",
        );
        let error = parse_ping("GET http://x/v2/", &page)
            .unwrap_err()
            .to_string();
        assert!(error.contains("GET http://x/v2/"), "{error}");
        assert!(
            error.contains("text/html instead of registry JSON"),
            "{error}"
        );
        assert!(error.contains("<!doctype html>"), "{error}");
        let v3 = response(
            200,
            &[("docker-distribution-api-version", "registry/3.0")],
            "{}",
        );
        assert!(parse_ping("GET /v2/", &v3).is_err());
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = time::macros::datetime!(2026-11-27 12:00 UTC);
        let wait = |value: &str| retry_after(&response(429, &[("retry-after", value)], ""), now);
        assert_eq!(wait("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            wait("Fri, 27 Nov 2026 12:01:00 GMT"),
            Some(Duration::from_secs(60))
        );
        assert_eq!(wait("Fri, 27 Nov 2026 11:00:00 GMT"), Some(Duration::ZERO));
        assert_eq!(wait("soon"), None);
        assert_eq!(wait("-3"), None);
        assert_eq!(retry_after(&response(429, &[], ""), now), None);
    }

    #[test]
    fn link_headers_of_every_shape() {
        let next = |value: &str| next_link(&response(200, &[("link", value)], ""));
        assert_eq!(
            next(r#"</v2/_catalog?last=a&n=1>; rel="next""#).as_deref(),
            Some("/v2/_catalog?last=a&n=1")
        );
        assert_eq!(next("</a>;rel=next").as_deref(), Some("/a"));
        assert_eq!(
            next(r#"</prev>; rel="prev", </after>; rel="next""#).as_deref(),
            Some("/after")
        );
        assert_eq!(next(r#"</v2/x>; rel="prev""#), None);
        assert_eq!(next(r#"/v2/x; rel="next""#), None);
        assert_eq!(next(""), None);
        assert_eq!(next(r#"<; rel="next""#), None);
    }

    #[test]
    fn only_202_counts_as_deleted() {
        assert!(parse_delete("DELETE", &response(202, &[], "")).is_ok());
        assert!(parse_delete("DELETE", &response(200, &[], "")).is_err());
        let refused = parse_delete(
            "DELETE",
            &response(
                405,
                &[],
                r#"{"errors":[{"code":"UNSUPPORTED","message":"x"}]}"#,
            ),
        )
        .unwrap_err();
        assert_eq!(refused.status(), Some(405));
    }

    #[test]
    fn a_referrers_answer_is_an_index_of_descriptors_with_a_next_page() {
        let registry = RegistryUrl::parse("http://127.0.0.1:5000").unwrap();
        let digest = Digest::sha256_of(b"subject");
        let request = referrers(&registry, &"team/app".parse().unwrap(), &digest);
        assert_eq!(
            request.uri().to_string(),
            format!("http://127.0.0.1:5000/v2/team/app/referrers/{digest}")
        );
        assert_eq!(
            request.headers()["accept"],
            "application/vnd.oci.image.index.v1+json"
        );
        let referrer = Digest::sha256_of(b"signature");
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{referrer}","size":12,"artifactType":"application/spdx+json","annotations":{{"k":"v"}}}}]}}"#
        );
        let page = response(
            200,
            &[(
                "link",
                "</v2/team/app/referrers/x?n=1&last=y>; rel=\"next\"",
            )],
            &body,
        );
        let (listed, next) = parse_referrers("GET referrers", &page).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].digest, referrer);
        assert_eq!(
            listed[0].artifact_type.as_deref(),
            Some("application/spdx+json")
        );
        assert_eq!(next.as_deref(), Some("/v2/team/app/referrers/x?n=1&last=y"));

        let not_an_index = body.replace("image.index", "image.manifest");
        let error = parse_referrers("GET referrers", &response(200, &[], &not_an_index))
            .unwrap_err()
            .to_string();
        assert!(error.contains("must be an OCI image index"), "{error}");
        let unsupported =
            parse_referrers("GET referrers", &response(404, &[], "404 page not found"))
                .unwrap_err();
        assert_eq!(unsupported.status(), Some(404));
    }
}
