//! Tests of sending: credentials and redirects, paging, tokens, retries,
//! and answers that are not what a registry sends.

use std::cell::RefCell;
use std::collections::VecDeque;

use super::*;
use crate::digest::Digest;
use crate::name::RepositoryName;
use crate::transport::TransportError;

/// A scripted "answer" that is a lost connection instead.
const LOST: u16 = 599;

/// A hostile server: answers from a script and records what it was sent.
#[derive(Default)]
struct Scripted {
    answers: RefCell<VecDeque<Response<Vec<u8>>>>,
    seen: RefCell<Vec<(String, Option<String>)>>,
    slept: RefCell<Vec<Duration>>,
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
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        let auth = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .map(|v| v.to_str().unwrap().to_owned());
        self.seen
            .borrow_mut()
            .push((request.uri().to_string(), auth));
        match self.answers.borrow_mut().pop_front() {
            // Scripted as a request that got no answer (in a browser:
            // also one blocked by CORS).
            Some(answer) if answer.status().as_u16() == LOST => {
                Err(TransportError("connection lost".into()))
            }
            Some(answer) => Ok(answer),
            None => Err(TransportError("no more answers".into())),
        }
    }

    async fn sleep(&self, duration: Duration) {
        self.slept.borrow_mut().push(duration);
    }

    fn now(&self) -> OffsetDateTime {
        time::macros::datetime!(2026-11-27 12:00 UTC)
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
fn a_refused_page_size_is_asked_again_without_one_and_an_empty_last_page_ends_the_list() {
    let client = client(
            Scripted::default()
                .answer(
                    400,
                    &[("content-type", "application/json")],
                    r#"{"errors":[{"code":"PAGINATION_NUMBER_INVALID","message":"invalid number of results requested","detail":{"n":1000}}]}"#,
                )
                .answer(
                    200,
                    &[("link", "</v2/t/tags/list?last=b&n=2>; rel=\"next\"")],
                    r#"{"name":"t","tags":["a","b"]}"#,
                )
                .answer(200, &[], r#"{"name":"t","tags":null}"#),
        );
    let tags = run(client.tags(&"t".parse().unwrap())).unwrap();
    assert_eq!(tags, ["a".parse().unwrap(), "b".parse().unwrap()]);
    let seen: Vec<String> = client
        .transport
        .seen
        .borrow()
        .iter()
        .map(|(url, _)| url.clone())
        .collect();
    assert_eq!(
        seen,
        [
            "http://registry.test:5000/v2/t/tags/list?n=1000",
            "http://registry.test:5000/v2/t/tags/list",
            "http://registry.test:5000/v2/t/tags/list?last=b&n=2",
        ]
    );
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

const DENIED_BEARER: &str = r#"Bearer realm="http://auth.test/token",service="registry.test",scope="repository:team/app:pull""#;

#[test]
fn a_bearer_challenge_gets_a_token_once_per_scope_with_credentials_only_to_the_realm() {
    let client = client(
        Scripted::default()
            .answer(401, &[("www-authenticate", DENIED_BEARER)], "")
            .answer(200, &[], r#"{"token":"tok-1","expires_in":300}"#)
            .answer(200, &[], r#"{"tags":["a"]}"#)
            .answer(200, &[], r#"{"tags":["a"]}"#),
    );
    let repo: RepositoryName = "team/app".parse().unwrap();
    run(client.tags(&repo)).unwrap();
    run(client.tags(&repo)).unwrap();
    let seen = client.transport.seen.borrow();
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert!(seen[0].1.as_deref().unwrap().starts_with("Basic "));
    assert_eq!(
        seen[1].0,
        "http://auth.test/token?service=registry.test&scope=repository%3Ateam%2Fapp%3Apull"
    );
    assert!(seen[1].1.as_deref().unwrap().starts_with("Basic "));
    assert_eq!(seen[2].1.as_deref(), Some("Bearer tok-1"));
    assert_eq!(seen[3].1.as_deref(), Some("Bearer tok-1"), "cached");
}

#[test]
fn a_second_401_names_the_realm_and_scope() {
    let client = client(
        Scripted::default()
            .answer(401, &[("www-authenticate", DENIED_BEARER)], "")
            .answer(200, &[], r#"{"token":"tok-1"}"#)
            .answer(
                401,
                &[("www-authenticate", DENIED_BEARER)],
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
            ),
    );
    let error = run(client.tags(&"team/app".parse().unwrap()))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("token realm http://auth.test/token, scope repository:team/app:pull"),
        "{error}"
    );
    assert!(error.contains("HTTP 401 UNAUTHORIZED"), "{error}");
}

#[test]
fn a_refused_token_request_says_so() {
    let client = client(
        Scripted::default()
            .answer(401, &[("www-authenticate", DENIED_BEARER)], "")
            .answer(401, &[], r#"{"details":"wrong password"}"#),
    );
    let error = run(client.tags(&"team/app".parse().unwrap()))
        .unwrap_err()
        .to_string();
    assert!(error.contains("http://auth.test/token"), "{error}");
    assert!(error.contains("401"), "{error}");
}

#[test]
fn basic_401_names_the_realm() {
    let client = client(Scripted::default().answer(
        401,
        &[("www-authenticate", r#"Basic realm="Registry Realm""#)],
        r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
    ));
    let error = run(client.ping()).unwrap_err().to_string();
    assert!(
        error.contains(r#"basic auth realm "Registry Realm", credentials were sent"#),
        "{error}"
    );
}

#[test]
fn rate_limits_and_unavailability_are_retried_after_the_asked_wait() {
    let client = client(
        Scripted::default()
            .answer(429, &[("retry-after", "3")], "")
            .answer(503, &[], "")
            .answer(503, &[("retry-after", "Fri, 27 Nov 2026 12:00:05 GMT")], "")
            .answer(200, &[], r#"{"repositories":[]}"#),
    );
    run(client.catalog()).unwrap();
    assert_eq!(
        *client.transport.slept.borrow(),
        [
            Duration::from_secs(3),
            Duration::from_secs(1),
            Duration::from_secs(5)
        ]
    );
}

#[test]
fn a_rate_limit_makes_every_later_request_wait_too() {
    let client = client(
        Scripted::default()
            .answer(429, &[("retry-after", "4")], "")
            .answer(200, &[], r#"{"repositories":[]}"#)
            .answer(200, &[], r#"{"name":"a","tags":[]}"#),
    );
    run(client.catalog()).unwrap();
    // The clock here stands still, so the pause is still on: a request
    // that starts now waits out what is left of it before it is sent.
    run(client.tags(&"a".parse().unwrap())).unwrap();
    assert_eq!(
        *client.transport.slept.borrow(),
        [Duration::from_secs(4), Duration::from_secs(4)]
    );
    assert_eq!(client.transport.seen.borrow().len(), 3);
}

#[test]
fn server_errors_are_retried_a_bounded_number_of_times_but_never_a_delete() {
    let mut script = Scripted::default();
    for _ in 0..10 {
        script = script.answer(500, &[], "boom");
    }
    let client = client(script);
    let error = run(client.catalog()).unwrap_err();
    assert_eq!(error.status(), Some(500));
    assert_eq!(client.transport.seen.borrow().len(), 4);
    assert!(error.to_string().contains("kept failing"), "{error}");

    let deleter = self::client(Scripted::default().answer(500, &[], ""));
    let digest = Digest::sha256_of(b"x");
    assert!(run(deleter.delete_manifest(&"a".parse().unwrap(), &digest)).is_err());
    assert_eq!(deleter.transport.seen.borrow().len(), 1);
}

#[test]
fn lost_connections_are_retried_then_reported() {
    let client = client(Scripted::default());
    let error = run(client.ping()).unwrap_err().to_string();
    assert_eq!(client.transport.seen.borrow().len(), 4);
    assert!(error.contains("no answer"), "{error}");
    assert!(error.contains("http://registry.test:5000/v2/"), "{error}");
}

#[test]
fn answers_that_are_not_registry_json_say_what_came_back_from_where() {
    // A damaged answer is read again (RetryPolicy::default().attempts in
    // all); one that stays wrong is reported.
    let attempts = RetryPolicy::default().attempts;
    let mut script = Scripted::default();
    for _ in 0..attempts {
        script = script.answer(
            200,
            &[("content-type", "text/html")],
            "<html><body>Sign in to the proxy</body></html>",
        );
    }
    for _ in 0..attempts {
        script = script.answer(
            200,
            &[("content-type", "application/json")],
            r#"{"tags":["a","#,
        );
    }
    let client = client(script);
    let repo: RepositoryName = "team/app".parse().unwrap();
    let html = run(client.tags(&repo)).unwrap_err().to_string();
    assert!(
        html.contains("GET http://registry.test:5000/v2/team/app/tags/list"),
        "{html}"
    );
    assert!(
        html.contains("text/html instead of registry JSON"),
        "{html}"
    );
    assert!(html.contains("Sign in to the proxy"), "{html}");
    let cut = run(client.tags(&repo)).unwrap_err().to_string();
    assert!(cut.contains("cut off after 13 bytes"), "{cut}");
    assert_eq!(client.transport.seen.borrow().len(), 2 * attempts as usize);
}

#[test]
fn a_plain_http_realm_of_an_https_registry_gets_no_password() {
    let transport = Scripted::default().answer(
        401,
        &[(
            "www-authenticate",
            r#"Bearer realm="http://auth.elsewhere.test/token",service="registry""#,
        )],
        r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
    );
    let client = Client::new(
        transport,
        RegistryUrl::parse("https://registry.test").unwrap(),
        Some(Credentials::new("admin", "secret")),
    );
    let error = run(client.ping()).unwrap_err().to_string();
    assert!(error.contains("over plain HTTP"), "{error}");
    let seen = client.transport.seen.borrow();
    assert_eq!(seen.len(), 1, "nothing went to the realm: {seen:?}");
    assert!(seen[0].0.starts_with("https://registry.test/"));
}

#[test]
fn a_damaged_answer_is_read_again() {
    let client = client(
        Scripted::default()
            .answer(
                200,
                &[("content-type", "text/html")],
                "<html>maintenance</html>",
            )
            .answer(
                200,
                &[("content-type", "application/json")],
                r#"{"tags":["a","b"]}"#,
            ),
    );
    let tags = run(client.tags(&"t".parse().unwrap())).unwrap();
    assert_eq!(tags.len(), 2);
}

#[test]
fn a_link_that_loops_is_detected() {
    let page = r#"{"tags":["a"]}"#;
    let link = "</v2/t/tags/list?last=a>; rel=\"next\"";
    let client = client(
        Scripted::default()
            .answer(200, &[("link", link)], page)
            .answer(200, &[("link", link)], page),
    );
    let error = run(client.tags(&"t".parse().unwrap()))
        .unwrap_err()
        .to_string();
    assert!(error.contains("pagination loops"), "{error}");
    assert_eq!(client.transport.seen.borrow().len(), 2);
}

#[test]
fn a_challenge_from_another_origin_gets_no_credentials() {
    let digest = Digest::sha256_of(b"config");
    let client = client(
        Scripted::default()
            .answer(307, &[("location", "https://storage.test/blob")], "")
            .answer(
                401,
                &[(
                    "www-authenticate",
                    r#"Bearer realm="https://evil.test/token",service="x""#,
                )],
                "",
            ),
    );
    assert!(run(client.config_created(&"a".parse().unwrap(), &digest)).is_err());
    let seen = client.transport.seen.borrow();
    assert_eq!(
        seen.len(),
        2,
        "no token request to the foreign realm: {seen:?}"
    );
    assert_eq!(seen[1], ("https://storage.test/blob".to_owned(), None));
}

#[test]
fn the_referrers_api_is_served_when_it_answers_and_not_when_the_path_is_unknown() {
    let name: RepositoryName = "app".parse().unwrap();
    let digest = Digest::sha256_of(b"image");
    let index = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
    let ask = |client: &Client<Scripted>| {
        futures_executor::block_on(client.serves_referrers(&name, &digest))
    };

    let served = client(Scripted::default().answer(200, &[], index));
    assert!(ask(&served).unwrap());
    for status in [404, 405, 501] {
        let none = client(Scripted::default().answer(status, &[], "404 page not found"));
        assert!(!ask(&none).unwrap(), "{status}");
        assert_eq!(none.transport.seen.borrow().len(), 1, "asked once");
    }
    // A registry that answers everything else but not this path (a
    // browser blocked by the missing CORS headers of its 404): no API,
    // after one try and a HEAD that shows the registry is there.
    let blocked = client(
        Scripted::default()
            .answer(LOST, &[], "")
            .answer(200, &[], ""),
    );
    assert!(!ask(&blocked).unwrap());
    let seen = blocked.transport.seen.borrow();
    assert_eq!(seen.len(), 2);
    assert!(seen[0].0.ends_with(&format!("/v2/app/referrers/{digest}")));
    assert!(seen[1].0.ends_with(&format!("/v2/app/manifests/{digest}")));
    assert!(
        blocked.transport.slept.borrow().is_empty(),
        "no retry, no wait"
    );
    // A registry that answers nothing: the scan stops.
    let gone = client(Scripted::default());
    assert!(matches!(ask(&gone), Err(Error::Network { .. })));
    // Any other error is the registry's, as for any request.
    let denied = client(Scripted::default().answer(403, &[], ""));
    assert_eq!(ask(&denied).unwrap_err().status(), Some(403));
}

/// A registry that answers 429 to its first `limited` requests, each answer
/// one turn of the executor after the request, and records how many
/// requests were in flight as each was sent.
#[derive(Default)]
struct Crowded {
    limited: usize,
    sent: std::cell::Cell<usize>,
    in_flight: std::cell::Cell<usize>,
    /// Requests in flight (this one included) as each was sent.
    seen_in_flight: RefCell<Vec<usize>>,
}

impl Transport for Crowded {
    async fn send(&self, _: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        let number = self.sent.get();
        self.sent.set(number + 1);
        self.in_flight.set(self.in_flight.get() + 1);
        self.seen_in_flight.borrow_mut().push(self.in_flight.get());
        // One turn away, so the requests side by side overlap.
        let mut turned = false;
        std::future::poll_fn(|context| {
            if std::mem::replace(&mut turned, true) {
                std::task::Poll::Ready(())
            } else {
                context.waker().wake_by_ref();
                std::task::Poll::Pending
            }
        })
        .await;
        self.in_flight.set(self.in_flight.get() - 1);
        let status = if number < self.limited { 429 } else { 200 };
        Ok(Response::builder().status(status).body(Vec::new()).unwrap())
    }

    async fn sleep(&self, _: Duration) {}

    fn now(&self) -> OffsetDateTime {
        time::macros::datetime!(2026-11-27 12:00 UTC)
    }
}

#[test]
fn rate_limits_lower_the_requests_in_flight_and_calm_answers_raise_them_again() {
    let client = Client::new(
        Crowded {
            limited: 8,
            ..Crowded::default()
        },
        RegistryUrl::parse("http://registry.test:5000").unwrap(),
        None,
    )
    .with_concurrency(8);
    let request = || {
        Request::get("http://registry.test:5000/v2/")
            .body(Vec::new())
            .unwrap()
    };
    let answers = run(futures_util::future::join_all(
        (0..24).map(|_| client.send(request())),
    ));
    assert!(
        answers
            .iter()
            .all(|answer| answer.as_ref().unwrap().1.status() == 200)
    );
    let seen = client.transport.seen_in_flight.borrow();
    // The first 8 went out together and were all told 429.
    assert_eq!(seen[..8].iter().max(), Some(&8));
    // Eight halvings leave one request at a time: the first retry goes
    // alone; each calm answer lets one more go beside it, up to the ceiling.
    assert_eq!(seen[8], 1);
    assert!(seen[8..].iter().all(|&n| n < 8), "{seen:?}");
    assert!(seen[8..].iter().any(|&n| n > 1), "{seen:?}");
    assert_eq!(seen.len(), 8 + 24);
    assert!(client.gate.limit() > 1);
}
