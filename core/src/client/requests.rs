//! One method per registry request the client makes (ping, catalog, tags,
//! referrers, manifests, blobs, deletes), with `Link` paging.
//!
//! Paging follows `Link` headers within the registry's origin only; a `Link`
//! back to a page already read is an error, as are more than 100,000 pages.
//! Tag lists ask for pages of 1000; a registry that refuses that size
//! (`PAGINATION_NUMBER_INVALID`) is asked again without one.
//!
//! A successful read that does not parse or does not match its digest is
//! read again, up to the retry attempts (`read_parsed`): a proxy may have
//! damaged it in passing; a registry that always sends it still stops the
//! scan with the error.

use http::{Request, Response};
use time::OffsetDateTime;

use super::{Client, copy_request};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode};
use crate::manifest::{Descriptor, parse_config_created};
use crate::media_type::MediaType;
use crate::name::{RepositoryName, Tag};
use crate::protocol::{self, FetchedManifest, Reference};
use crate::transport::Transport;

/// Stops a registry whose `Link` headers never end.
const MAX_PAGES: usize = 100_000;

/// The answers to a referrers request of a registry without the API: 404
/// (which a registry serving it never gives), 405 or 501.
fn lacks_referrers_api(status: u16) -> bool {
    matches!(status, 404 | 405 | 501)
}

impl<T: Transport> Client<T> {
    /// Checks that the URL is a registry and the credentials are accepted.
    pub async fn ping(&self) -> Result<(), Error> {
        let (described, response) = self.send(protocol::ping(&self.registry)).await?;
        protocol::parse_ping(&described, &response)
    }

    /// Every repository of the catalog, following pagination.
    pub async fn catalog(&self) -> Result<Vec<RepositoryName>, Error> {
        self.every_page(protocol::catalog(&self.registry), protocol::parse_catalog)
            .await
    }

    /// Every tag of a repository, following pagination. Pages ask for
    /// [`protocol::TAG_PAGE`] tags; a registry whose maximum is lower and
    /// says so (`PAGINATION_NUMBER_INVALID`, as Distribution 3.1.0 does with a
    /// smaller `tags.maxtags`) is asked again without a size.
    pub async fn tags(&self, repository: &RepositoryName) -> Result<Vec<Tag>, Error> {
        let sized = self
            .every_page(
                protocol::tags(&self.registry, repository),
                protocol::parse_tags,
            )
            .await;
        match sized {
            Err(error) if error.registry_code() == Some(&ErrorCode::PaginationNumberInvalid) => {
                self.every_page(
                    protocol::tags_unsized(&self.registry, repository),
                    protocol::parse_tags,
                )
                .await
            }
            other => other,
        }
    }

    /// Whether the registry serves the OCI 1.1 referrers API, asked with
    /// the referrers of `digest`, a manifest of `repository` it has: an
    /// answer is yes, a 404 (or 405, 501) no. A registry without the API may
    /// answer that path without the CORS headers of its other answers
    /// (Distribution adds its configured headers only on its own routes),
    /// which a browser reports as a failed request: then, when a `HEAD` of
    /// `digest` is answered, the registry is there and the answer is no;
    /// when it is not, the scan stops with the failure. That request is
    /// sent once, not retried.
    pub async fn serves_referrers(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<bool, Error> {
        let request = protocol::referrers(&self.registry, repository, digest);
        match self.send_retrying(request, false).await {
            Ok((_, response)) if lacks_referrers_api(response.status().as_u16()) => Ok(false),
            Ok((described, response)) => protocol::check(&described, &response).map(|()| true),
            Err(lost @ Error::Network { .. }) => {
                match self.manifest_exists(repository, digest).await {
                    Ok(_) => Ok(false),
                    Err(_) => Err(lost),
                }
            }
            Err(error) => Err(error),
        }
    }

    /// The manifests attached to `digest` through the OCI 1.1 referrers API,
    /// every page; `None` when the registry does not serve the API (a 404,
    /// which a registry that serves it never answers, or a 405 or 501).
    pub async fn referrers(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<Option<Vec<Descriptor>>, Error> {
        match self
            .every_page(
                protocol::referrers(&self.registry, repository, digest),
                protocol::parse_referrers,
            )
            .await
        {
            Ok(referrers) => Ok(Some(referrers)),
            Err(error) if error.status().is_some_and(lacks_referrers_api) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The items of a paged list: each page read (again if damaged), then
    /// its `Link` followed, until a page has none.
    async fn every_page<Item>(
        &self,
        first: Request<Vec<u8>>,
        parse: PageParser<Item>,
    ) -> Result<Vec<Item>, Error> {
        let mut items = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut request = first;
        for _ in 0..MAX_PAGES {
            let (described, (page, next)) = self
                .read_parsed(
                    || copy_request(&request),
                    |described: &str, response| {
                        Ok((described.to_owned(), parse(described, response)?))
                    },
                )
                .await?;
            items.extend(page);
            match self.next_page(&described, next, &mut seen)? {
                Some(next) => request = next,
                None => return Ok(items),
            }
        }
        Err(too_many_pages())
    }

    fn next_page(
        &self,
        described: &str,
        link: Option<String>,
        seen: &mut std::collections::BTreeSet<String>,
    ) -> Result<Option<Request<Vec<u8>>>, Error> {
        let Some(link) = link else { return Ok(None) };
        let url = self
            .registry
            .resolve(&link)
            .ok_or_else(|| Error::Protocol {
                request: described.to_owned(),
                detail: format!("the next page {link} lies outside the registry; not followed"),
            })?;
        if !seen.insert(url.clone()) {
            return Err(Error::Protocol {
                request: described.to_owned(),
                detail: format!(
                    "the Link header leads back to {url}, a page already read; the registry's pagination loops"
                ),
            });
        }
        Ok(Some(protocol::next_page(url)))
    }

    pub async fn manifest(
        &self,
        repository: &RepositoryName,
        reference: &Reference,
    ) -> Result<FetchedManifest, Error> {
        self.read_parsed(
            || protocol::manifest(&self.registry, repository, reference),
            |described, response| protocol::parse_manifest_response(described, reference, response),
        )
        .await
    }

    /// [`Client::manifest`] with the exact bytes the registry sent, for a
    /// cache.
    pub(crate) async fn manifest_and_bytes(
        &self,
        repository: &RepositoryName,
        reference: &Reference,
    ) -> Result<(FetchedManifest, Vec<u8>), Error> {
        self.read_parsed(
            || protocol::manifest(&self.registry, repository, reference),
            |described, response| {
                protocol::parse_manifest_response(described, reference, response)
                    .map(|fetched| (fetched, response.body().clone()))
            },
        )
        .await
    }

    /// Sends a read and parses the answer. A successful answer that does not
    /// parse or does not match its digest may have been damaged on the way
    /// (a proxy cutting or rewriting it), so it is read again, up to the
    /// retry attempts; a registry that sends the same garbage every time
    /// still gets its error reported.
    pub(crate) async fn read_parsed<R>(
        &self,
        request: impl Fn() -> Request<Vec<u8>>,
        parse: impl Fn(&str, &Response<Vec<u8>>) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let (described, response) = self.send(request()).await?;
            match parse(&described, &response) {
                Err(Error::Protocol { .. })
                    if response.status().is_success() && attempt < self.retry.attempts =>
                {
                    self.transport.sleep(self.backoff(attempt)).await;
                }
                parsed => return parsed,
            }
        }
    }

    /// Where a tag points now; `None` when the tag no longer exists.
    pub async fn resolve_tag(
        &self,
        repository: &RepositoryName,
        tag: &Tag,
    ) -> Result<Option<Digest>, Error> {
        match self
            .manifest(repository, &Reference::Tag(tag.clone()))
            .await
        {
            Ok(fetched) => Ok(Some(fetched.digest)),
            Err(error) if is_not_found(&error) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Where a tag points now, as cheaply as the registry allows: a `HEAD`
    /// whose `Docker-Content-Digest` says it, else (a browser across origins
    /// may not see the header) the manifest itself. `None`: the tag is gone.
    pub async fn tag_digest(
        &self,
        repository: &RepositoryName,
        tag: &Tag,
    ) -> Result<Option<Digest>, Error> {
        let request = protocol::tag_head(&self.registry, repository, tag);
        let (described, response) = self.send(request).await?;
        match protocol::parse_tag_head(&described, &response)? {
            None => Ok(None),
            Some(Some(digest)) => Ok(Some(digest)),
            Some(None) => self.resolve_tag(repository, tag).await,
        }
    }

    /// Where a tag points now and what that manifest lists, as cheaply as
    /// the registry allows: a `HEAD` whose `Docker-Content-Digest` and
    /// `Content-Type` say it is a single image (which lists nothing), else
    /// the manifest itself. `None`: the tag is gone.
    pub async fn tag_target(
        &self,
        repository: &RepositoryName,
        tag: &Tag,
    ) -> Result<Option<(Digest, Vec<Digest>)>, Error> {
        let request = protocol::tag_head(&self.registry, repository, tag);
        let (described, response) = self.send(request).await?;
        let image = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(MediaType::parse)
            .is_some_and(|media_type| {
                matches!(
                    media_type,
                    MediaType::DockerManifest | MediaType::OciManifest
                )
            });
        match protocol::parse_tag_head(&described, &response)? {
            None => return Ok(None),
            Some(Some(digest)) if image => return Ok(Some((digest, Vec::new()))),
            Some(_) => {}
        }
        match self
            .manifest(repository, &Reference::Tag(tag.clone()))
            .await
        {
            Ok(fetched) => {
                let children = fetched
                    .manifest
                    .children()
                    .iter()
                    .map(|child| child.digest.clone())
                    .collect();
                Ok(Some((fetched.digest, children)))
            }
            Err(error) if is_not_found(&error) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The build date in an image config blob, when it has a usable one.
    pub async fn config_created(
        &self,
        repository: &RepositoryName,
        config: &Digest,
    ) -> Result<Option<OffsetDateTime>, Error> {
        self.read_parsed(
            || protocol::blob(&self.registry, repository, config),
            |described, response| {
                protocol::parse_blob(described, config, response).map(parse_config_created)
            },
        )
        .await
    }

    /// The exact bytes of a blob, checked against its digest.
    pub(crate) async fn blob_bytes(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<Vec<u8>, Error> {
        self.read_parsed(
            || protocol::blob(&self.registry, repository, digest),
            |described, response| {
                protocol::parse_blob(described, digest, response).map(<[u8]>::to_vec)
            },
        )
        .await
    }

    /// Whether the registry still serves a manifest (`HEAD` by digest).
    pub async fn manifest_exists(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<bool, Error> {
        let request = protocol::manifest_head(&self.registry, repository, digest);
        let (described, response) = self.send(request).await?;
        protocol::parse_manifest_head(&described, &response)
    }

    pub async fn delete_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<(), Error> {
        let request = protocol::delete_manifest(&self.registry, repository, digest);
        let (described, response) = self.send(request).await?;
        protocol::parse_delete(&described, &response)
    }
}

/// Reads one page of a paged list: its items and the next page's link.
type PageParser<Item> = fn(&str, &Response<Vec<u8>>) -> Result<(Vec<Item>, Option<String>), Error>;

/// 404 with `MANIFEST_UNKNOWN` (or no code at all) means "not there".
pub(crate) fn is_not_found(error: &Error) -> bool {
    error.status() == Some(404)
        && matches!(
            error.registry_code(),
            None | Some(ErrorCode::ManifestUnknown)
        )
}

fn too_many_pages() -> Error {
    Error::Protocol {
        request: "pagination".into(),
        detail: format!("more than {MAX_PAGES} pages; the registry's Link headers do not end"),
    }
}
