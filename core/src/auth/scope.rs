//! The token scope a registry request needs, from its method and path.

use http::Method;

/// The token scope a registry request needs, from its method and its path
/// after the registry base (`/v2/...`, a query is ignored): the catalog needs
/// `registry:catalog:*`; reading tags, manifests and blobs needs
/// `repository:<name>:pull`; deleting a manifest or blob needs
/// `repository:<name>:delete`; pushing needs `repository:<name>:pull,push`.
/// `None` for `/v2/` and for paths that are not registry API paths.
///
/// The repository name is everything between `/v2/` and the last `/tags/`,
/// `/manifests/` or `/blobs/`. When a registry's challenge names a scope,
/// that one wins: this is the guess for the first request.
pub fn scope_for(method: &Method, path: &str) -> Option<String> {
    let path = path.split_once(['?', '#']).map_or(path, |(path, _)| path);
    let rest = path.strip_prefix("/v2/")?;
    let read = *method == Method::GET || *method == Method::HEAD;
    if rest == "_catalog" {
        return read.then(|| "registry:catalog:*".to_owned());
    }
    let (at, marker) = ["/tags/", "/manifests/", "/blobs/"]
        .into_iter()
        .filter_map(|marker| rest.rfind(marker).map(|at| (at, marker)))
        .max_by_key(|(at, _)| *at)?;
    let name = rest.get(..at)?;
    let tail = rest.get(at + marker.len()..)?;
    if name.split('/').any(str::is_empty) {
        return None;
    }
    let single = !tail.is_empty() && !tail.contains('/');
    let action = match marker {
        "/tags/" if tail == "list" && read => "pull",
        "/manifests/" if single && read => "pull",
        "/manifests/" if single && *method == Method::DELETE => "delete",
        "/manifests/" if single && *method == Method::PUT => "pull,push",
        "/blobs/" if tail.starts_with("uploads/") => "pull,push",
        "/blobs/" if single && read => "pull",
        "/blobs/" if single && *method == Method::DELETE => "delete",
        _ => return None,
    };
    Some(format!("repository:{name}:{action}"))
}
