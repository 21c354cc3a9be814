//! Images something runs, read from a file the admin gives (`--in-use FILE`,
//! the dashboard's "Images in use"), so that no plan deletes them.
//!
//! The file is either image references, one a line (`host/repo:tag`,
//! `host/repo@sha256:…`, blank lines and `#` comments skipped), or the JSON
//! of `kubectl get pods -A -o json` (a `List` of pods, or one pod): every
//! container's, init container's and ephemeral container's `image` in
//! `spec`, and every `imageID` in `status`'s container statuses (the digest
//! the node really pulled; container runtimes write it with or without a
//! `docker-pullable://` prefix).
//!
//! References are read as Docker reads them: the first path component is the
//! registry host when it holds a `.` or a `:` or is `localhost`, otherwise
//! the host is Docker Hub (`docker.io`, whose one-component names live under
//! `library/`). A reference is this registry's when its host names the
//! registry's host: the same name (case aside) and port, a missing port
//! being the scheme's default (443 for https, 80 for http); Docker Hub's
//! names (`docker.io`, `index.docker.io`, `registry-1.docker.io`) are one.
//! A registry often has other names in image references than the URL
//! cleanreg reaches it by (a DNS name against an address, a proxy's name):
//! those are given as hosts the references write (`--in-use-host`), and a
//! reference whose host is one of them, exactly (case aside), is this
//! registry's too.
//! A digest reference pins that manifest; a tag reference pins the manifest
//! the tag points at in the scanned inventory, which is the plan's moment.

use std::collections::BTreeSet;
use std::fmt;

use crate::digest::Digest;
use crate::inventory::Inventory;
use crate::name::{RepositoryName, Tag};
use crate::protocol::RegistryUrl;

/// One image reference as a file gave it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImageReference {
    /// The registry host, with its port if one was written; `docker.io`
    /// when the reference names none.
    pub host: String,
    pub repository: RepositoryName,
    pub tag: Option<Tag>,
    pub digest: Option<Digest>,
}

/// A malformed in-use file: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {place}: {message}")]
pub struct InUseError {
    /// The file's name.
    pub file: String,
    /// `line N`, or the JSON path of the value.
    pub place: String,
    pub message: String,
}

/// The references one file lists, with the file's name for reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InUseFile {
    pub source: String,
    pub references: BTreeSet<ImageReference>,
}

/// What pinning found: which references were this registry's and kept
/// something, which were another registry's, and which named nothing here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InUseReport {
    pub source: String,
    /// Reference, repository and the digest kept.
    pub kept: Vec<(String, RepositoryName, Digest)>,
    /// References to other registries, as written.
    pub other_registries: Vec<String>,
    /// This registry's references that match no scanned manifest, and why.
    pub not_found: Vec<(String, String)>,
}

impl fmt::Display for ImageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.host, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl ImageReference {
    /// Reads one reference, or says why it is not one.
    pub fn parse(text: &str) -> Result<ImageReference, String> {
        let text = without_runtime_prefix(text);
        if text.is_empty() {
            return Err("an empty reference".into());
        }
        if is_image_id(text) {
            return Err(format!(
                "{text} is an image ID without a repository; it names no manifest"
            ));
        }
        let (name, digest) = match text.split_once('@') {
            Some((name, digest)) => (
                name,
                Some(
                    digest
                        .parse::<Digest>()
                        .map_err(|e| format!("{text}: {e}"))?,
                ),
            ),
            None => (text, None),
        };
        let last_slash = name.rfind('/').map_or(0, |at| at + 1);
        let (name, tag) = match name[last_slash..].rfind(':') {
            Some(at) => {
                let at = last_slash + at;
                (&name[..at], Some(&name[at + 1..]))
            }
            None => (name, None),
        };
        // A reference with neither tag nor digest means `latest`.
        let tag = match (tag, &digest) {
            (None, None) => Some("latest"),
            (tag, _) => tag,
        };
        let tag = tag
            .map(|tag| {
                tag.parse::<Tag>()
                    .map_err(|e| format!("{text}: the tag {tag:?}: {e}"))
            })
            .transpose()?;
        let (host, path) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_ascii_lowercase(), rest.to_owned())
            }
            _ => ("docker.io".to_owned(), name.to_owned()),
        };
        let host = if DOCKER_HUB.contains(&host.as_str()) {
            "docker.io".to_owned()
        } else {
            host
        };
        let repository = if host == "docker.io" && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        let repository = repository
            .parse::<RepositoryName>()
            .map_err(|e| format!("{text}: the repository {repository:?}: {e}"))?;
        Ok(ImageReference {
            host,
            repository,
            tag,
            digest,
        })
    }

    /// Whether it names the registry at `registry`.
    pub fn is_at(&self, registry: &RegistryUrl) -> bool {
        let origin = registry.origin();
        let (scheme_port, rest) = if let Some(rest) = origin.strip_prefix("https://") {
            ("443", rest)
        } else if let Some(rest) = origin.strip_prefix("http://") {
            ("80", rest)
        } else {
            return false;
        };
        let split = |host: &str| -> (String, String) {
            let host = host.to_ascii_lowercase();
            // An IPv6 literal keeps its colons inside brackets.
            match host.rfind(':').filter(|&at| !host[at..].contains(']')) {
                Some(at) => (host[..at].to_owned(), host[at + 1..].to_owned()),
                None => (host, scheme_port.to_owned()),
            }
        };
        let (registry_host, registry_port) = split(rest);
        let (host, port) = split(&self.host);
        let hub = |name: &str| DOCKER_HUB.contains(&name);
        (host == registry_host || (hub(&host) && hub(&registry_host))) && port == registry_port
    }
}

/// The reference without the `docker-pullable://` (or similar) a container
/// runtime puts before it.
fn without_runtime_prefix(text: &str) -> &str {
    let text = text.trim();
    [
        "docker-pullable://",
        "docker://",
        "containerd://",
        "cri-o://",
    ]
    .iter()
    .find_map(|prefix| text.strip_prefix(prefix))
    .unwrap_or(text)
}

/// A local image ID (`sha256:<hex>`, the config's digest), which some
/// runtimes report as a container's `imageID`: it names no manifest.
fn is_image_id(text: &str) -> bool {
    !text.contains('/') && text.parse::<Digest>().is_ok()
}

/// Docker Hub's names.
const DOCKER_HUB: [&str; 3] = ["docker.io", "index.docker.io", "registry-1.docker.io"];

impl InUseFile {
    /// Reads a file of references or of pods; `source` names it in reasons
    /// and errors.
    pub fn parse(source: &str, text: &str) -> Result<InUseFile, InUseError> {
        let error = |place: String, message: String| InUseError {
            file: source.to_owned(),
            place,
            message,
        };
        let mut references = BTreeSet::new();
        if text.trim_start().starts_with('{') {
            let value: serde_json::Value = serde_json::from_str(text)
                .map_err(|e| error(format!("line {}", e.line()), e.to_string()))?;
            let pods: Vec<(String, &serde_json::Value)> = match value.get("items") {
                Some(serde_json::Value::Array(items)) => items
                    .iter()
                    .enumerate()
                    .map(|(at, pod)| (format!("items[{at}]"), pod))
                    .collect(),
                Some(_) => return Err(error("items".into(), "not a list".into())),
                None if value.get("spec").is_some() => vec![(String::new(), &value)],
                None => {
                    return Err(error(
                        "(file)".into(),
                        "JSON without `items` or `spec`: expected the output of `kubectl get \
                         pods -A -o json`"
                            .into(),
                    ));
                }
            };
            for (at, pod) in pods {
                for (path, text) in pod_images(pod) {
                    let place = if at.is_empty() {
                        path
                    } else {
                        format!("{at}.{path}")
                    };
                    references.insert(ImageReference::parse(&text).map_err(|m| error(place, m))?);
                }
            }
        } else {
            for (at, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                references.insert(
                    ImageReference::parse(line)
                        .map_err(|m| error(format!("line {}", at + 1), m))?,
                );
            }
        }
        Ok(InUseFile {
            source: source.to_owned(),
            references,
        })
    }

    /// Marks in `inventory` the manifests this file's references to the
    /// registry at `registry` name (`Repository::in_use`), and reports.
    pub fn pin(&self, inventory: &mut Inventory, registry: &RegistryUrl) -> InUseReport {
        self.pin_also(inventory, registry, &[])
    }

    /// As [`InUseFile::pin`], with `also` the registry's other names as
    /// references write them (from [`registry_host`]).
    pub fn pin_also(
        &self,
        inventory: &mut Inventory,
        registry: &RegistryUrl,
        also: &[String],
    ) -> InUseReport {
        let mut report = InUseReport {
            source: self.source.clone(),
            ..InUseReport::default()
        };
        for reference in &self.references {
            let written = reference.to_string();
            let aliased = also
                .iter()
                .any(|host| reference.host.eq_ignore_ascii_case(host));
            if !aliased && !reference.is_at(registry) {
                report.other_registries.push(written);
                continue;
            }
            let name = &reference.repository;
            let Some(repository) = inventory.repositories.get_mut(name) else {
                report
                    .not_found
                    .push((written, "its repository was not scanned".into()));
                continue;
            };
            let digest = match (&reference.digest, &reference.tag) {
                (Some(digest), _) => repository
                    .images
                    .contains_key(digest)
                    .then(|| digest.clone())
                    .ok_or("the registry does not hold that manifest"),
                (None, Some(tag)) => repository
                    .tags
                    .get(tag)
                    .cloned()
                    .ok_or("the tag does not exist"),
                (None, None) => Err("no tag or digest"),
            };
            match digest {
                Ok(digest) => {
                    repository
                        .in_use
                        .entry(digest.clone())
                        .or_insert_with(|| self.source.clone());
                    report.kept.push((written, name.clone(), digest));
                }
                Err(why) => report.not_found.push((written, why.into())),
            }
        }
        report
    }
}

/// Another name of the registry as image references write its host
/// (`registry.example.org:5000`, `registry.example.org`), checked: no
/// scheme, no path. Returned lowercased.
pub fn registry_host(text: &str) -> Result<String, String> {
    let host = text.trim();
    if host.is_empty() {
        return Err("an empty registry host".into());
    }
    if host.contains("://") {
        return Err(format!(
            "{host:?}: give the host as image references write it, without the scheme"
        ));
    }
    if let Some(bad) = host
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || ".-:[]".contains(*c)))
    {
        return Err(format!(
            "{host:?} has {bad:?}; a registry host is a name or address with an optional :port"
        ));
    }
    Ok(host.to_ascii_lowercase())
}

/// Every image a pod names, with its JSON path: `spec`'s containers' `image`
/// and `status`'s container statuses' `imageID`.
fn pod_images(pod: &serde_json::Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (part, list, field) in [
        ("spec", "containers", "image"),
        ("spec", "initContainers", "image"),
        ("spec", "ephemeralContainers", "image"),
        ("status", "containerStatuses", "imageID"),
        ("status", "initContainerStatuses", "imageID"),
        ("status", "ephemeralContainerStatuses", "imageID"),
    ] {
        let Some(items) = pod
            .get(part)
            .and_then(|value| value.get(list))
            .and_then(serde_json::Value::as_array)
        else {
            continue;
        };
        for (at, item) in items.iter().enumerate() {
            // A status of a container not started yet has an empty
            // imageID; a local image ID names no manifest.
            if let Some(text) = item.get(field).and_then(serde_json::Value::as_str)
                && !without_runtime_prefix(text).is_empty()
                && !is_image_id(without_runtime_prefix(text))
            {
                found.push((format!("{part}.{list}[{at}].{field}"), text.to_owned()));
            }
        }
    }
    found
}

impl fmt::Display for InUseReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let images: BTreeSet<_> = self
            .kept
            .iter()
            .map(|(_, name, digest)| (name, digest))
            .collect();
        let plural = |count: usize, word: &str| {
            format!("{count} {word}{}", if count == 1 { "" } else { "s" })
        };
        write!(
            f,
            "in use ({}): {} to this registry {} {}",
            self.source,
            plural(self.kept.len(), "reference"),
            if self.kept.len() == 1 {
                "keeps"
            } else {
                "keep"
            },
            plural(images.len(), "manifest")
        )?;
        if !self.other_registries.is_empty() {
            write!(
                f,
                "; {} to other registries left aside",
                plural(self.other_registries.len(), "reference")
            )?;
        }
        for (reference, why) in &self.not_found {
            write!(f, "\n  not found: {reference}: {why}")?;
        }
        for reference in &self.other_registries {
            write!(f, "\n  another registry: {reference}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(text: &str) -> ImageReference {
        ImageReference::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn another_name_of_the_registry_pins_too() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        let mut inventory: Inventory = serde_json::from_str(&format!(
            r#"{{"repositories": {{"team/app": {{"tags": {{"v1": "{digest}"}}, "images": {{}}}}}}}}"#
        ))
        .unwrap();
        let file = InUseFile::parse(
            "refs.txt",
            "registry.corp:5000/team/app:v1\nREGISTRY.CORP/team/app:v1\nother.corp:5000/team/app:v1\n",
        )
        .unwrap();
        let registry = RegistryUrl::parse("http://10.0.0.5:5000").unwrap();
        // By its URL alone, none of the three is this registry's.
        let plain = file.pin(&mut inventory.clone(), &registry);
        assert_eq!(plain.other_registries.len(), 3);
        // Named as it is in the references: the port must match too.
        let also = [registry_host(" Registry.Corp:5000 ").unwrap()];
        assert_eq!(also[0], "registry.corp:5000");
        let report = file.pin_also(&mut inventory, &registry, &also);
        assert_eq!(report.kept.len(), 1, "{report}");
        assert_eq!(report.other_registries.len(), 2, "{report}");
        assert_eq!(
            inventory.repositories[&"team/app".parse().unwrap()].in_use[&digest.parse().unwrap()],
            "refs.txt"
        );
        assert!(registry_host("https://registry.corp").is_err());
        assert!(registry_host("registry.corp/team").is_err());
        assert!(registry_host(" ").is_err());
    }

    #[test]
    fn reads_references_as_docker_does() {
        let r = reference("nginx");
        assert_eq!(
            (
                r.host.as_str(),
                r.repository.as_str(),
                r.tag.as_ref().map(Tag::as_str)
            ),
            ("docker.io", "library/nginx", Some("latest"))
        );
        let r = reference("registry.example.com:5000/team/app:1.4.2");
        assert_eq!(
            (
                r.host.as_str(),
                r.repository.as_str(),
                r.tag.as_ref().map(Tag::as_str)
            ),
            ("registry.example.com:5000", "team/app", Some("1.4.2"))
        );
        let digest = Digest::sha256_of(b"x");
        let r = reference(&format!("docker-pullable://localhost:5000/app@{digest}"));
        assert_eq!(r.host, "localhost:5000");
        assert_eq!((r.tag, r.digest), (None, Some(digest.clone())));
        let r = reference(&format!("index.docker.io/team/app:v1@{digest}"));
        assert_eq!(r.host, "docker.io");
        assert_eq!(r.tag.as_ref().map(Tag::as_str), Some("v1"));
        // The first component is a host only with a dot, a colon or localhost.
        assert_eq!(reference("team/app:1").host, "docker.io");
        assert_eq!(reference("localhost/app").host, "localhost");
        for bad in [
            "",
            "app@sha256:123",
            "Team/App:1",
            "app:bad tag",
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ] {
            assert!(ImageReference::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_host_names_the_registry_with_the_usual_defaults() {
        let at = |reference: &str, registry: &str| {
            self::reference(reference).is_at(&RegistryUrl::parse(registry).unwrap())
        };
        assert!(at("127.0.0.1:5000/app:1", "http://127.0.0.1:5000"));
        assert!(!at("127.0.0.1:5001/app:1", "http://127.0.0.1:5000"));
        assert!(!at("127.0.0.1/app:1", "http://127.0.0.1:5000"));
        assert!(at(
            "registry.example.com/app:1",
            "https://registry.example.com"
        ));
        assert!(at(
            "Registry.Example.com:443/app:1",
            "https://registry.example.com"
        ));
        assert!(!at(
            "registry.example.com/app:1",
            "http://registry.example.com:5000"
        ));
        assert!(at("nginx", "https://registry-1.docker.io"));
        assert!(!at("ghcr.io/team/app:1", "https://registry.example.com"));
    }

    #[test]
    fn reads_kubectl_pods_and_names_the_bad_value() {
        let digest = Digest::sha256_of(b"pod");
        let pods = format!(
            r#"{{"apiVersion": "v1", "kind": "List", "items": [
                {{"spec": {{"containers": [{{"name": "web", "image": "127.0.0.1:5000/team/web:2.1.0"}}],
                           "initContainers": [{{"name": "init", "image": "busybox"}}]}},
                 "status": {{"containerStatuses": [
                    {{"name": "web", "imageID": "docker-pullable://127.0.0.1:5000/team/web@{digest}"}},
                    {{"name": "side", "imageID": ""}}]}}}}]}}"#
        );
        let file = InUseFile::parse("pods.json", &pods).unwrap();
        let written: Vec<String> = file.references.iter().map(ToString::to_string).collect();
        assert_eq!(
            written,
            [
                format!("127.0.0.1:5000/team/web@{digest}"),
                "127.0.0.1:5000/team/web:2.1.0".to_owned(),
                "docker.io/library/busybox:latest".to_owned(),
            ]
        );
        let bad = pods.replace("team/web:2.1.0", "Team/web:2.1.0");
        let error = InUseFile::parse("pods.json", &bad).unwrap_err();
        assert_eq!(error.place, "items[0].spec.containers[0].image");
        let error = InUseFile::parse("refs.txt", "# running\n\nnginx:1\nnot a ref\n").unwrap_err();
        assert_eq!(error.to_string().split(':').nth(1), Some(" line 4"));
    }
}
