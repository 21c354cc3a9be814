//! One registry client for the CLI and the dashboard, generic over the
//! [`Transport`] that carries its requests.

use http::{Request, Response};
use time::OffsetDateTime;

use crate::credentials::Credentials;
use crate::digest::Digest;
use crate::error::{Error, ErrorCode};
use crate::manifest::parse_config_created;
use crate::name::{RepositoryName, Tag};
use crate::protocol::{self, FetchedManifest, Reference, RegistryUrl, same_origin};
use crate::transport::Transport;

const MAX_REDIRECTS: usize = 5;
/// Stops a registry whose `Link` headers never end.
const MAX_PAGES: usize = 100_000;

pub struct Client<T> {
    transport: T,
    registry: RegistryUrl,
    credentials: Option<Credentials>,
}

impl<T: Transport> Client<T> {
    pub fn new(transport: T, registry: RegistryUrl, credentials: Option<Credentials>) -> Self {
        Client {
            transport,
            registry,
            credentials,
        }
    }

    pub fn registry(&self) -> &RegistryUrl {
        &self.registry
    }

    /// Sends a request with the credentials, following redirects; credentials
    /// go only to the registry's own origin.
    pub(crate) async fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> Result<(String, Response<Vec<u8>>), Error> {
        let described = protocol::describe(&request);
        let mut request = request;
        for _ in 0..=MAX_REDIRECTS {
            let url = request.uri().to_string();
            if let Some(credentials) = &self.credentials
                && same_origin(&url, self.registry.origin())
            {
                let value = credentials
                    .basic_header()
                    .parse()
                    .map_err(|_| Error::Protocol {
                        request: described.clone(),
                        detail: "the credentials cannot go into an HTTP header".into(),
                    })?;
                request
                    .headers_mut()
                    .insert(http::header::AUTHORIZATION, value);
            }
            let method = request.method().clone();
            let accept = request.headers().get(http::header::ACCEPT).cloned();
            let response = self
                .transport
                .send(request)
                .await
                .map_err(|error| Error::Network {
                    request: described.clone(),
                    detail: error.0,
                })?;
            let location = response
                .headers()
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok());
            match location {
                Some(location)
                    if response.status().is_redirection() && method == http::Method::GET =>
                {
                    let next = resolve_redirect(&url, location);
                    let mut builder = Request::get(next);
                    if let Some(accept) = accept {
                        builder = builder.header(http::header::ACCEPT, accept);
                    }
                    request = builder.body(Vec::new()).map_err(|e| Error::Protocol {
                        request: described.clone(),
                        detail: format!("unusable redirect to {location}: {e}"),
                    })?;
                }
                _ => return Ok((described, response)),
            }
        }
        Err(Error::Protocol {
            request: described,
            detail: format!("more than {MAX_REDIRECTS} redirects"),
        })
    }

    /// Checks that the URL is a registry and the credentials are accepted.
    pub async fn ping(&self) -> Result<(), Error> {
        let (described, response) = self.send(protocol::ping(&self.registry)).await?;
        protocol::parse_ping(&described, &response)
    }

    /// Every repository of the catalog, following pagination.
    pub async fn catalog(&self) -> Result<Vec<RepositoryName>, Error> {
        let mut names = Vec::new();
        let mut request = protocol::catalog(&self.registry);
        for _ in 0..MAX_PAGES {
            let (described, response) = self.send(request).await?;
            let (page, next) = protocol::parse_catalog(&described, &response)?;
            names.extend(page);
            match self.next_page(&described, next)? {
                Some(next) => request = next,
                None => return Ok(names),
            }
        }
        Err(too_many_pages())
    }

    /// Every tag of a repository, following pagination.
    pub async fn tags(&self, repository: &RepositoryName) -> Result<Vec<Tag>, Error> {
        let mut tags = Vec::new();
        let mut request = protocol::tags(&self.registry, repository);
        for _ in 0..MAX_PAGES {
            let (described, response) = self.send(request).await?;
            let (page, next) = protocol::parse_tags(&described, &response)?;
            tags.extend(page);
            match self.next_page(&described, next)? {
                Some(next) => request = next,
                None => return Ok(tags),
            }
        }
        Err(too_many_pages())
    }

    fn next_page(
        &self,
        described: &str,
        link: Option<String>,
    ) -> Result<Option<Request<Vec<u8>>>, Error> {
        let Some(link) = link else { return Ok(None) };
        let url = self
            .registry
            .resolve(&link)
            .ok_or_else(|| Error::Protocol {
                request: described.to_owned(),
                detail: format!("the next page {link} lies outside the registry; not followed"),
            })?;
        Ok(Some(protocol::next_page(url)))
    }

    pub async fn manifest(
        &self,
        repository: &RepositoryName,
        reference: &Reference,
    ) -> Result<FetchedManifest, Error> {
        let request = protocol::manifest(&self.registry, repository, reference);
        let (described, response) = self.send(request).await?;
        protocol::parse_manifest_response(&described, reference, &response)
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

    /// The build date in an image config blob, when it has a usable one.
    pub async fn config_created(
        &self,
        repository: &RepositoryName,
        config: &Digest,
    ) -> Result<Option<OffsetDateTime>, Error> {
        let request = protocol::blob(&self.registry, repository, config);
        let (described, response) = self.send(request).await?;
        let bytes = protocol::parse_blob(&described, config, &response)?;
        Ok(parse_config_created(bytes))
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

fn resolve_redirect(current: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_owned();
    }
    if let Some(rest) = location.strip_prefix("//") {
        let scheme = current.split("://").next().unwrap_or("https");
        return format!("{scheme}://{rest}");
    }
    let after_scheme = current.find("://").map_or(0, |i| i + 3);
    let origin_end = current[after_scheme..]
        .find('/')
        .map_or(current.len(), |i| after_scheme + i);
    format!("{}{location}", &current[..origin_end])
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::VecDeque;

    use super::*;
    use crate::transport::TransportError;

    /// A hostile server: answers from a script and records what it was sent.
    #[derive(Default)]
    struct Scripted {
        answers: RefCell<VecDeque<Response<Vec<u8>>>>,
        seen: RefCell<Vec<(String, Option<String>)>>,
    }

    impl Scripted {
        fn answer(self, status: u16, headers: &[(&str, &str)], body: &str) -> Self {
            let mut builder = Response::builder().status(status);
            for (name, value) in headers {
                builder = builder.header(*name, *value);
            }
            self.answers
                .borrow_mut()
                .push_back(builder.body(body.as_bytes().to_vec()).unwrap());
            self
        }
    }

    impl Transport for Scripted {
        async fn send(
            &self,
            request: Request<Vec<u8>>,
        ) -> Result<Response<Vec<u8>>, TransportError> {
            let auth = request
                .headers()
                .get(http::header::AUTHORIZATION)
                .map(|v| v.to_str().unwrap().to_owned());
            self.seen
                .borrow_mut()
                .push((request.uri().to_string(), auth));
            self.answers
                .borrow_mut()
                .pop_front()
                .ok_or_else(|| TransportError("no more answers".into()))
        }
    }

    fn client(transport: Scripted) -> Client<Scripted> {
        Client::new(
            transport,
            RegistryUrl::parse("http://registry.test:5000").unwrap(),
            Some(Credentials::new("admin", "secret")),
        )
    }

    fn run<F: std::future::Future>(future: F) -> F::Output {
        futures_executor::block_on(future)
    }

    #[test]
    fn credentials_do_not_follow_a_redirect_to_another_origin() {
        let config = br#"{"created":"2026-01-02T03:04:05Z"}"#;
        let digest = Digest::sha256_of(config);
        let client = client(
            Scripted::default()
                .answer(307, &[("location", "https://storage.test/blob?sig=1")], "")
                .answer(200, &[], std::str::from_utf8(config).unwrap()),
        );
        let created = run(client.config_created(&"a".parse().unwrap(), &digest)).unwrap();
        assert!(created.is_some());
        let seen = client.transport.seen.borrow();
        assert!(seen[0].1.as_deref().unwrap().starts_with("Basic "));
        assert_eq!(
            seen[1],
            ("https://storage.test/blob?sig=1".to_owned(), None)
        );
    }

    #[test]
    fn a_next_page_on_another_origin_is_refused() {
        let client = client(Scripted::default().answer(
            200,
            &[(
                "link",
                "<http://elsewhere.test/v2/_catalog?last=a>; rel=\"next\"",
            )],
            r#"{"repositories":["a"]}"#,
        ));
        let error = run(client.catalog()).unwrap_err().to_string();
        assert!(error.contains("outside the registry"), "{error}");
        assert_eq!(client.transport.seen.borrow().len(), 1);
    }

    #[test]
    fn tag_pages_are_followed_and_joined_in_order() {
        let client = client(
            Scripted::default()
                .answer(
                    200,
                    &[("link", "</v2/t/tags/list?last=a&n=1>; rel=\"next\"")],
                    r#"{"tags":["a"]}"#,
                )
                .answer(200, &[], r#"{"tags":["b"]}"#),
        );
        let tags = run(client.tags(&"t".parse().unwrap())).unwrap();
        assert_eq!(tags, ["a".parse().unwrap(), "b".parse().unwrap()]);
        assert_eq!(
            client.transport.seen.borrow()[1].0,
            "http://registry.test:5000/v2/t/tags/list?last=a&n=1"
        );
    }
}
