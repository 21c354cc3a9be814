//! The hosting configs of `deploy/`, as shipped, with their example values
//! (directories, origins, the registry's address) replaced by a test's or
//! the demo's. Every example value must be found, so a config edited out of
//! step with this file fails loudly instead of testing something else.

/// `deploy/same-origin.conf`: the dashboard under `/cleanreg/`, a site at
/// `/`, the registry at `/v2/`. For [`crate::NginxOptions::site`].
pub fn same_origin(dashboard: &str, site: &str, registry: &str) -> String {
    render(
        "same-origin.conf",
        include_str!("../../deploy/same-origin.conf"),
        &[
            ("/srv/cleanreg/", &directory(dashboard)),
            ("root /srv/registry-ui;", &format!("root {site};")),
            ("http://127.0.0.1:5000", registry),
        ],
    )
}

/// `deploy/cleanreg-page.conf`: the dashboard alone, allowed to connect to
/// `registry_origin`.
pub fn cleanreg_page(dashboard: &str, registry_origin: &str) -> String {
    render(
        "cleanreg-page.conf",
        include_str!("../../deploy/cleanreg-page.conf"),
        &[
            ("root /srv/cleanreg;", &format!("root {dashboard};")),
            ("https://registry.example.com", registry_origin),
        ],
    )
}

/// `deploy/registry-front.conf`: CORS for `page_origin` in front of `registry`.
pub fn registry_front(registry: &str, page_origin: &str) -> String {
    render(
        "registry-front.conf",
        include_str!("../../deploy/registry-front.conf"),
        &[
            ("http://127.0.0.1:5000", registry),
            (
                "\"https://cleanreg.example.com\"",
                &format!("\"{page_origin}\""),
            ),
        ],
    )
}

/// The `http.headers` entries of `deploy/registry-cors.yml` for
/// `page_origin`, for [`crate::RegistryOptions::extra_headers`]; also checks
/// that the fragment enables deletes.
pub fn registry_cors_headers(page_origin: &str) -> Vec<String> {
    let text = render(
        "registry-cors.yml",
        include_str!("../../deploy/registry-cors.yml"),
        &[("https://cleanreg.example.com", page_origin)],
    );
    assert!(
        text.contains("storage:\n  delete:\n    enabled: true\n"),
        "deploy/registry-cors.yml must enable deletes"
    );
    let mut lines = text.lines().skip_while(|line| *line != "http:").skip(1);
    assert_eq!(
        lines.next(),
        Some("  headers:"),
        "deploy/registry-cors.yml: `http:` must start with `headers:`"
    );
    let headers: Vec<String> = lines
        .take_while(|line| line.starts_with("    "))
        .map(|line| line.trim().to_owned())
        .collect();
    assert!(
        !headers.is_empty(),
        "deploy/registry-cors.yml lists no headers"
    );
    headers
}

/// The stand-in for a registry UI at `/` of the same-origin deployment
/// (`testkit/site/`), for the demo and the tests.
pub fn registry_ui_site() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("site")
}

fn directory(path: &str) -> String {
    format!("{}/", path.trim_end_matches('/'))
}

fn render(name: &str, text: &str, values: &[(&str, &str)]) -> String {
    let mut text = text.to_owned();
    for (example, value) in values {
        assert!(
            text.contains(example),
            "deploy/{name} no longer holds {example:?}: update testkit/src/deploy.rs with it"
        );
        text = text.replace(example, value);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_value_is_replaced() {
        let same = same_origin("/tmp/dist", "/tmp/site", "http://127.0.0.1:4999");
        assert!(same.contains("alias /tmp/dist/;"), "{same}");
        assert!(same.contains("root /tmp/site;"), "{same}");
        assert!(same.contains("proxy_pass http://127.0.0.1:4999;"), "{same}");
        let page = cleanreg_page("/tmp/dist", "http://127.0.0.1:4998");
        assert!(
            page.contains("connect-src 'self' http://127.0.0.1:4998;"),
            "{page}"
        );
        let front = registry_front("http://127.0.0.1:4999", "http://127.0.0.1:4997");
        assert!(
            front.contains("\"http://127.0.0.1:4997\" $http_origin;"),
            "{front}"
        );
        let headers = registry_cors_headers("http://127.0.0.1:4997");
        assert!(
            headers
                .contains(&r#"Access-Control-Allow-Origin: ["http://127.0.0.1:4997"]"#.to_owned()),
            "{headers:?}"
        );
    }
}
