//! Tests of challenge parsing, scopes, the token exchange and the cache.

use http::header::AUTHORIZATION;
use http::{Method, Response};
use time::{Duration, OffsetDateTime};

use super::exchange::percent_encode;
use super::*;
use crate::credentials::Credentials;
use time::macros::datetime;

fn bearer(realm: &str) -> BearerChallenge {
    BearerChallenge {
        realm: realm.to_owned(),
        service: None,
        scope: None,
        error: None,
    }
}

fn only_bearer(header: &str) -> BearerChallenge {
    match parse_www_authenticate(header).unwrap().as_slice() {
        [Challenge::Bearer(challenge)] => challenge.clone(),
        other => panic!("{header}: {other:?}"),
    }
}

// --- challenges ---

#[test]
fn reads_the_distribution_example() {
    let challenge = only_bearer(
        r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#,
    );
    assert_eq!(
        challenge,
        BearerChallenge {
            realm: "https://auth.docker.io/token".into(),
            service: Some("registry.docker.io".into()),
            scope: Some("repository:samalba/my-app:pull,push".into()),
            error: None,
        }
    );
}

#[test]
fn reads_harbor_and_gitlab_challenges() {
    let harbor = only_bearer(
        r#"Bearer realm="https://harbor.example.com/service/token",service="harbor-registry",scope="repository:library/nginx:pull""#,
    );
    assert_eq!(harbor.realm, "https://harbor.example.com/service/token");
    assert_eq!(harbor.service.as_deref(), Some("harbor-registry"));
    assert_eq!(
        harbor.scope.as_deref(),
        Some("repository:library/nginx:pull")
    );
    let gitlab = only_bearer(
        r#"Bearer realm="https://gitlab.example.com/jwt/auth",service="container_registry",scope="repository:group/sub/project:delete""#,
    );
    assert_eq!(gitlab.realm, "https://gitlab.example.com/jwt/auth");
    assert_eq!(gitlab.service.as_deref(), Some("container_registry"));
    assert_eq!(
        gitlab.scope.as_deref(),
        Some("repository:group/sub/project:delete")
    );
    let catalog = only_bearer(
        r#"Bearer realm="https://gitlab.example.com/jwt/auth",service="container_registry",scope="registry:catalog:*""#,
    );
    assert_eq!(catalog.scope.as_deref(), Some("registry:catalog:*"));
}

#[test]
fn reads_basic_with_and_without_realm() {
    assert_eq!(
        parse_www_authenticate(r#"Basic realm="Registry Realm""#).unwrap(),
        [Challenge::Basic {
            realm: Some("Registry Realm".into())
        }]
    );
    assert_eq!(
        parse_www_authenticate("Basic").unwrap(),
        [Challenge::Basic { realm: None }]
    );
    assert_eq!(
        parse_www_authenticate(r#"Basic realm="Registry", charset="UTF-8""#).unwrap(),
        [Challenge::Basic {
            realm: Some("Registry".into())
        }]
    );
}

#[test]
fn reads_the_error_of_a_bearer_challenge() {
    let challenge = only_bearer(
        r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push",error="insufficient_scope""#,
    );
    assert_eq!(challenge.error.as_deref(), Some("insufficient_scope"));
    assert_eq!(
        challenge.scope.as_deref(),
        Some("repository:samalba/my-app:pull,push")
    );
}

#[test]
fn reads_several_challenges_in_one_header() {
    let all = parse_www_authenticate(
        r#"Basic realm="r", Bearer realm="https://a/token",service="s", Negotiate"#,
    )
    .unwrap();
    assert_eq!(
        all,
        [
            Challenge::Basic {
                realm: Some("r".into())
            },
            Challenge::Bearer(BearerChallenge {
                service: Some("s".into()),
                ..bearer("https://a/token")
            }),
            Challenge::Other {
                scheme: "Negotiate".into()
            },
        ]
    );
    let reversed =
        parse_www_authenticate(r#"Bearer realm="https://a/t",scope="x:y:pull,push",Basic"#)
            .unwrap();
    assert_eq!(reversed.len(), 2);
    assert_eq!(reversed[1], Challenge::Basic { realm: None });
    let token68 = parse_www_authenticate(
        r#"Negotiate YIIB+w/a==, Basic realm="x",, ,Bearer realm="https://a/t""#,
    )
    .unwrap();
    assert_eq!(token68.len(), 3);
    assert_eq!(
        token68[0],
        Challenge::Other {
            scheme: "Negotiate".into()
        }
    );
    // A bare word after a comma is, by the grammar, a challenge of its own.
    let bare = parse_www_authenticate(r#"Bearer realm="https://a/t", service"#).unwrap();
    assert_eq!(
        bare[1],
        Challenge::Other {
            scheme: "service".into()
        }
    );
}

#[test]
fn tolerates_odd_spacing_case_and_escapes() {
    let challenge = only_bearer(
        "  bEaReR   REALM = \"https://a/t\" ,\tService=svc ,  scope=\"repository:a/b:pull\"  ",
    );
    assert_eq!(challenge.realm, "https://a/t");
    assert_eq!(challenge.service.as_deref(), Some("svc"));
    assert_eq!(challenge.scope.as_deref(), Some("repository:a/b:pull"));
    assert_eq!(
        parse_www_authenticate(r#"BASIC realm="a \"quoted\" \\ realm, with comma""#).unwrap(),
        [Challenge::Basic {
            realm: Some(r#"a "quoted" \ realm, with comma"#.into())
        }]
    );
    assert_eq!(
        parse_www_authenticate("Basic abc==").unwrap(),
        [Challenge::Basic { realm: None }]
    );
    assert_eq!(
        parse_www_authenticate(r#"Basic realm="Zürich""#).unwrap(),
        [Challenge::Basic {
            realm: Some("Zürich".into())
        }]
    );
}

#[test]
fn a_bearer_challenge_needs_a_realm() {
    for header in [
        r#"Bearer service="registry.docker.io""#,
        r#"Bearer realm="",service="s""#,
        "Bearer",
        "Bearer abc==",
        r#"Basic realm="x", Bearer"#,
    ] {
        let error = parse_www_authenticate(header).unwrap_err();
        assert_eq!(error, ChallengeError::BearerWithoutRealm, "{header}");
        assert!(error.to_string().contains("realm"), "{error}");
    }
}

#[test]
fn rejects_malformed_headers() {
    type Check = fn(&ChallengeError) -> bool;
    let cases: &[(&str, Check)] = &[
        ("", |e| *e == ChallengeError::Empty),
        ("   ", |e| *e == ChallengeError::Empty),
        (" , ,, ", |e| *e == ChallengeError::Empty),
        (r#"Bearer realm="https://a/t"#, |e| {
            *e == ChallengeError::Unterminated { at: 13 }
        }),
        (r#"Basic realm="x\"#, |e| {
            matches!(e, ChallengeError::Unterminated { .. })
        }),
        (r#"Bearer realm"https://a/t""#, |e| {
            matches!(
                e,
                ChallengeError::Syntax {
                    expected: "'=' after the parameter name",
                    ..
                }
            )
        }),
        (r#"Bearer realm "https://a/t""#, |e| {
            matches!(e, ChallengeError::Syntax { .. })
        }),
        // `realm=` reads as a token68, which leaves Bearer without realm.
        (r#"Bearer realm=,service="s""#, |e| {
            *e == ChallengeError::BearerWithoutRealm
        }),
        (r#"Bearer realm= ;"#, |e| {
            matches!(e, ChallengeError::Syntax { .. })
        }),
        (r#"Bearer realm="https://a/t" service="s""#, |e| {
            matches!(e, ChallengeError::Syntax { .. })
        }),
        (
            r#"Bearer realm="a",REALM="b""#,
            |e| matches!(e, ChallengeError::DuplicateParam { name, .. } if name == "realm"),
        ),
        (r#"="x""#, |e| {
            matches!(e, ChallengeError::Syntax { at: 0, .. })
        }),
        (r#""Basic""#, |e| matches!(e, ChallengeError::Syntax { .. })),
        (r#"Basic="x""#, |e| {
            matches!(e, ChallengeError::Syntax { .. })
        }),
        ("Basic realm=\"a\nb\"", |e| {
            matches!(e, ChallengeError::Syntax { .. })
        }),
        (r#"Bearer realm="x", "junk""#, |e| {
            matches!(e, ChallengeError::Syntax { .. })
        }),
        ("Bearer realm=x;y", |e| {
            matches!(e, ChallengeError::Syntax { .. })
        }),
    ];
    for (header, expected) in cases {
        let result = parse_www_authenticate(header);
        match &result {
            Err(error) if expected(error) => {
                let text = error.to_string();
                assert!(text.contains(": "), "{text}");
            }
            other => panic!("{header:?} gave {other:?}"),
        }
    }
}

#[test]
fn never_panics_on_any_prefix_or_garbage() {
    let headers = [
        r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push",error="insufficient_scope""#,
        r#"Basic realm="a \"b\" \\ ç", Negotiate YII+/==, Bearer realm=x"#,
        "\u{0}\u{7f}é漢字\"\\=,, =\"\\",
        "Bearer realm=\"\\\u{1F600}\"",
    ];
    for header in headers {
        for (end, _) in header.char_indices().chain([(header.len(), ' ')]) {
            let _ = parse_www_authenticate(&header[..end]);
            let _ = parse_www_authenticate(&header[end..]);
        }
    }
}

// --- scopes ---

#[test]
fn scopes_follow_the_request() {
    let get = &Method::GET;
    let cases = [
        (get, "/v2/_catalog", Some("registry:catalog:*")),
        (get, "/v2/_catalog?n=100&last=a", Some("registry:catalog:*")),
        (get, "/v2/app/tags/list", Some("repository:app:pull")),
        (
            get,
            "/v2/team/app/tags/list?n=50",
            Some("repository:team/app:pull"),
        ),
        (
            &Method::HEAD,
            "/v2/team/app/manifests/latest",
            Some("repository:team/app:pull"),
        ),
        (
            get,
            "/v2/a/b/c/manifests/sha256:0123",
            Some("repository:a/b/c:pull"),
        ),
        (
            get,
            "/v2/team/app/blobs/sha256:abcd",
            Some("repository:team/app:pull"),
        ),
        (
            &Method::DELETE,
            "/v2/team/app/manifests/sha256:abcd",
            Some("repository:team/app:delete"),
        ),
        (
            &Method::DELETE,
            "/v2/team/app/blobs/sha256:abcd",
            Some("repository:team/app:delete"),
        ),
        (
            &Method::PUT,
            "/v2/team/app/manifests/v1",
            Some("repository:team/app:pull,push"),
        ),
        (
            &Method::POST,
            "/v2/team/app/blobs/uploads/",
            Some("repository:team/app:pull,push"),
        ),
        (
            &Method::PATCH,
            "/v2/team/app/blobs/uploads/1234-abcd",
            Some("repository:team/app:pull,push"),
        ),
        // Names may hold the markers as components: the last one counts.
        (
            get,
            "/v2/tags/blobs/manifests/tags/list",
            Some("repository:tags/blobs/manifests:pull"),
        ),
        (
            get,
            "/v2/x/manifests/y/tags/list",
            Some("repository:x/manifests/y:pull"),
        ),
        (get, "/v2/", None),
        (get, "/v2", None),
        (get, "", None),
        (get, "/v1/_catalog", None),
        (get, "v2/team/app/tags/list", None),
        (&Method::DELETE, "/v2/_catalog", None),
        (get, "/v2/team/app/tags/other", None),
        (get, "/v2/team/app/manifests/", None),
        (get, "/v2/team/app/manifests/a/b", None),
        (get, "/v2//manifests/latest", None),
        (get, "/v2/team//app/manifests/latest", None),
        (get, "/v2/tags/list", None),
        (&Method::POST, "/v2/team/app/manifests/latest", None),
        (&Method::DELETE, "/v2/team/app/tags/list", None),
    ];
    for (method, path, expected) in cases {
        assert_eq!(
            scope_for(method, path).as_deref(),
            expected,
            "{method} {path}"
        );
    }
}

// --- token request ---

#[test]
fn percent_encodes_everything_but_unreserved() {
    let mut out = String::new();
    percent_encode("repository:a/b:pull,push *&=+ é~._-Z9", &mut out);
    assert_eq!(
        out,
        "repository%3Aa%2Fb%3Apull%2Cpush%20%2A%26%3D%2B%20%C3%A9~._-Z9"
    );
}

#[test]
fn builds_the_docker_hub_token_request() {
    let challenge = only_bearer(
        r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#,
    );
    let credentials = Credentials::new("admin", "s3cret");
    let request =
        token_request(&challenge, challenge.scope.as_deref(), Some(&credentials)).unwrap();
    assert_eq!(request.method(), Method::GET);
    assert_eq!(
        request.uri(),
        "https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Asamalba%2Fmy-app%3Apull%2Cpush"
    );
    assert_eq!(request.headers()[AUTHORIZATION], "Basic YWRtaW46czNjcmV0");
    assert!(request.headers()[AUTHORIZATION].is_sensitive());
    assert!(request.body().is_empty());
    assert!(!format!("{request:?}").contains("YWRtaW46czNjcmV0"));
}

#[test]
fn joins_a_realm_that_has_a_query() {
    let challenge = BearerChallenge {
        service: Some("container registry".into()),
        ..bearer("https://gitlab.example.com/jwt/auth?client_id=docker")
    };
    let request = token_request(&challenge, Some("registry:catalog:*"), None).unwrap();
    assert_eq!(
        request.uri(),
        "https://gitlab.example.com/jwt/auth?client_id=docker&service=container%20registry&scope=registry%3Acatalog%3A%2A"
    );
    assert!(request.headers().get(AUTHORIZATION).is_none());

    let open = token_request(
        &bearer("http://127.0.0.1:5001/token?"),
        Some("a:b:pull"),
        None,
    )
    .unwrap();
    assert_eq!(open.uri(), "http://127.0.0.1:5001/token?scope=a%3Ab%3Apull");
}

#[test]
fn sends_several_scopes_and_none() {
    let request = token_request(
        &bearer("https://auth/token"),
        Some("repository:a:pull  repository:b:delete"),
        None,
    )
    .unwrap();
    assert_eq!(
        request.uri(),
        "https://auth/token?scope=repository%3Aa%3Apull&scope=repository%3Ab%3Adelete"
    );
    let bare = token_request(&bearer("https://auth/token"), None, None).unwrap();
    assert_eq!(bare.uri(), "https://auth/token");
    let empty_service = BearerChallenge {
        service: Some(String::new()),
        ..bearer("HTTPS://Auth:8443/t")
    };
    let request = token_request(&empty_service, Some(""), None).unwrap();
    assert_eq!(request.uri().path(), "/t");
    assert_eq!(request.uri().query(), None);
}

#[test]
fn refuses_realms_that_are_not_absolute_http_urls() {
    for realm in [
        "",
        "/token",
        "token",
        "auth.docker.io/token",
        "ftp://auth/token",
        "https://",
        "https:///token",
        "https://?x=1",
        "https://user:pass@auth/token",
        "https://auth /token",
        "https://auth/token#fragment",
        "https://auth/to\nken",
        "https://auth/tökën",
        "https://auth\\evil/token",
        "https://auth/\"x\"",
        "javascript://auth/%0aalert(1)",
    ] {
        match token_request(&bearer(realm), Some("a:b:pull"), None) {
            Err(error @ AuthError::BadRealm { .. }) => {
                let text = error.to_string();
                assert!(text.contains(&format!("{realm:?}")), "{text}");
                assert!(text.contains("auth.token.realm"), "{text}");
            }
            other => panic!("{realm:?} gave {other:?}"),
        }
    }
}

// --- token answer ---

const NOW: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);
const REALM: &str = "https://auth.example.com/token";

fn answer(status: u16, body: &str) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.as_bytes().to_vec())
        .unwrap()
}

fn token_of(body: &str) -> Result<Token, AuthError> {
    parse_token_response(REALM, &answer(200, body), NOW)
}

#[test]
fn reads_token_or_access_token() {
    let token = token_of(r#"{"token":"abc.def","expires_in":300}"#).unwrap();
    assert_eq!(token.value(), "abc.def");
    assert_eq!(token.expires_at(), NOW + Duration::seconds(300));
    assert_eq!(token.bearer_header(), "Bearer abc.def");
    let oauth = token_of(r#"{"access_token":"xyz","expires_in":900}"#).unwrap();
    assert_eq!(oauth.value(), "xyz");
    let both = token_of(r#"{"token":"t1","access_token":"t2"}"#).unwrap();
    assert_eq!(both.value(), "t1");
    let empty_token = token_of(r#"{"token":"","access_token":"t2"}"#).unwrap();
    assert_eq!(empty_token.value(), "t2");
    let created = parse_token_response(REALM, &answer(201, r#"{"token":"t"}"#), NOW);
    assert!(created.is_ok());
}

#[test]
fn expires_in_defaults_to_sixty_seconds_and_is_believed_below_it() {
    let expiry = |body: &str| token_of(body).unwrap().expires_at() - NOW;
    assert_eq!(expiry(r#"{"token":"t"}"#), Duration::seconds(60));
    assert_eq!(
        expiry(r#"{"token":"t","expires_in":null}"#),
        Duration::seconds(60)
    );
    assert_eq!(
        expiry(r#"{"token":"t","expires_in":0}"#),
        Duration::seconds(60)
    );
    assert_eq!(
        expiry(r#"{"token":"t","expires_in":-5}"#),
        Duration::seconds(60)
    );
    assert_eq!(
        expiry(r#"{"token":"t","expires_in":30}"#),
        Duration::seconds(30)
    );
    assert_eq!(
        expiry(r#"{"token":"t","expires_in":0.5}"#),
        Duration::seconds(1)
    );
    assert_eq!(
        expiry(r#"{"token":"t","expires_in":299.9}"#),
        Duration::seconds(299)
    );
    assert_eq!(
        expiry(r#"{"token":"t","expires_in":"300"}"#),
        Duration::seconds(300)
    );
    assert_eq!(
        expiry(r#"{"token":"t","expires_in":1e300}"#),
        MAX_TOKEN_LIFETIME
    );
    assert_eq!(
        expiry(r#"{"token":"t","expires_in":18446744073709551615}"#),
        MAX_TOKEN_LIFETIME
    );
    for bad in [
        r#"{"token":"t","expires_in":"soon"}"#,
        r#"{"token":"t","expires_in":true}"#,
        r#"{"token":"t","expires_in":[300]}"#,
    ] {
        assert!(
            matches!(token_of(bad), Err(AuthError::NotAToken { .. })),
            "{bad}"
        );
    }
}

#[test]
fn issued_at_counts_only_when_sane() {
    let expiry = |issued_at: &str| {
        let body = format!(r#"{{"token":"t","expires_in":300,"issued_at":{issued_at}}}"#);
        token_of(&body).unwrap().expires_at()
    };
    assert_eq!(
        expiry(r#""2026-03-01T11:59:30Z""#),
        datetime!(2026-03-01 12:04:30 UTC)
    );
    assert_eq!(
        expiry(r#""2026-03-01T12:59:30+01:00""#),
        datetime!(2026-03-01 12:04:30 UTC)
    );
    assert_eq!(
        expiry(r#""2026-03-01T12:00:00Z""#),
        NOW + Duration::seconds(300)
    );
    // In the future, long expired, unparsable or not a string: from now.
    for issued_at in [
        r#""2026-03-01T12:01:00Z""#,
        r#""2026-03-01T11:00:00Z""#,
        r#""yesterday""#,
        r#""2026-03-01 11:59:30""#,
        "12345",
        "null",
    ] {
        assert_eq!(
            expiry(issued_at),
            NOW + Duration::seconds(300),
            "{issued_at}"
        );
    }
}

#[test]
fn answers_without_a_usable_token_are_errors() {
    for body in [
        "",
        "<html>login</html>",
        "[]",
        "null",
        "{}",
        r#"{"token":""}"#,
        r#"{"token":null,"access_token":null}"#,
        r#"{"token":42}"#,
        r#"{"token":"a b"}"#,
        r#"{"token":"a\r\nX-Evil: 1"}"#,
        r#"{"token":"tökën"}"#,
    ] {
        match token_of(body) {
            Err(error @ AuthError::NotAToken { .. }) => {
                let text = error.to_string();
                assert!(text.contains(REALM), "{text}");
                assert!(text.contains("token realm"), "{text}");
            }
            other => panic!("{body:?} gave {other:?}"),
        }
    }
}

#[test]
fn error_statuses_name_the_realm_the_status_and_the_fix() {
    let refused = parse_token_response(
        REALM,
        &answer(401, r#"{"details":"incorrect username or password"}"#),
        NOW,
    )
    .unwrap_err();
    assert_eq!(
        refused,
        AuthError::Denied {
            realm: REALM.into(),
            status: 401,
            body_excerpt: r#"{"details":"incorrect username or password"}"#.into(),
        }
    );
    let text = refused.to_string();
    assert!(
        text.starts_with(&format!(
            "the token server at {REALM} refused the credentials (HTTP 401"
        )),
        "{text}"
    );
    assert!(text.ends_with("check the username and password"), "{text}");
    assert!(text.contains("incorrect username or password"), "{text}");

    for (status, fix) in [
        (403, "grant it pull and delete access"),
        (404, "check the token realm"),
        (429, "wait a minute"),
        (503, "look at its log"),
        (302, "check the token realm"),
    ] {
        let text = parse_token_response(REALM, &answer(status, ""), NOW)
            .unwrap_err()
            .to_string();
        assert!(text.contains(REALM), "{text}");
        assert!(text.contains(&format!("HTTP {status}")), "{text}");
        assert!(text.contains(fix), "{text}");
    }
}

#[test]
fn body_excerpts_are_short_and_on_one_line() {
    let long = format!("<html>\n<body>{}</body>\r\n\u{0}", "x".repeat(500));
    let excerpt = match parse_token_response(REALM, &answer(500, &long), NOW) {
        Err(AuthError::Denied { body_excerpt, .. }) => body_excerpt,
        other => panic!("{other:?}"),
    };
    assert!(excerpt.starts_with("<html> <body>xxx"), "{excerpt}");
    assert!(excerpt.ends_with('…'), "{excerpt}");
    assert_eq!(excerpt.chars().count(), 201);
    assert!(!excerpt.contains(['\n', '\r', '\u{0}']));
    let invalid_utf8 = Response::builder()
        .status(401)
        .body(vec![0xff, 0xfe, b'n', b'o'])
        .unwrap();
    assert!(parse_token_response(REALM, &invalid_utf8, NOW).is_err());
}

#[test]
fn debug_hides_the_token() {
    let token = Token::new("s3cret-token", NOW);
    let shown = format!("{token:?}");
    assert!(shown.contains("***"), "{shown}");
    assert!(!shown.contains("s3cret-token"), "{shown}");
    let mut cache = TokenCache::new();
    cache.insert(Some("repository:a:pull".to_owned()), token);
    assert!(!format!("{cache:?}").contains("s3cret-token"));
}

// --- cache ---

fn key(scope: Option<&str>) -> Option<String> {
    scope.map(str::to_owned)
}

fn value<'a>(cache: &'a TokenCache, scope: Option<&str>, now: OffsetDateTime) -> Option<&'a str> {
    cache.get(&key(scope), now).map(Token::value)
}

#[test]
fn the_cache_keeps_tokens_per_scope_until_shortly_before_expiry() {
    let pull = Some("repository:a:pull");
    let delete = Some("repository:a:delete");
    let expires = NOW + Duration::seconds(60);
    let mut cache = TokenCache::new();
    assert_eq!(value(&cache, None, NOW), None);
    cache.insert(key(pull), Token::new("pull", expires));
    cache.insert(None, Token::new("none", expires));
    cache.insert(
        key(delete),
        Token::new("delete", NOW + Duration::seconds(300)),
    );

    assert_eq!(value(&cache, pull, NOW), Some("pull"));
    assert_eq!(value(&cache, None, NOW), Some("none"));
    assert_eq!(value(&cache, Some("repository:b:pull"), NOW), None);
    assert_eq!(
        value(&cache, pull, expires - Duration::seconds(11)),
        Some("pull")
    );
    assert_eq!(value(&cache, pull, expires - TOKEN_MARGIN), None);
    assert_eq!(value(&cache, None, expires), None);
    assert_eq!(value(&cache, pull, expires + Duration::hours(1)), None);
    assert_eq!(value(&cache, delete, expires), Some("delete"));

    cache.insert(
        key(pull),
        Token::new("fresh", expires + Duration::seconds(300)),
    );
    assert_eq!(value(&cache, pull, expires), Some("fresh"));
    cache.forget(&key(pull));
    assert_eq!(value(&cache, pull, NOW), None);
    assert_eq!(value(&cache, delete, NOW), Some("delete"));
    cache.forget(&None);
    assert_eq!(value(&cache, None, NOW), None);
    cache.forget(&key(Some("never-there")));
    cache.clear();
    assert_eq!(value(&cache, delete, NOW), None);
}

#[test]
fn a_parsed_token_goes_through_the_cache() {
    let token = token_of(r#"{"token":"t","expires_in":300}"#).unwrap();
    let catalog = Some("registry:catalog:*");
    let mut cache = TokenCache::new();
    cache.insert(key(catalog), token);
    let later = NOW + Duration::seconds(289);
    assert_eq!(value(&cache, catalog, later), Some("t"));
    assert_eq!(value(&cache, catalog, later + Duration::seconds(1)), None);
}
