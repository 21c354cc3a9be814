//! skopeo as a client independent of cleanreg and the seeder: a small OCI
//! image layout written here, pushed with `skopeo copy`.

use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::process::Command;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::process;
use crate::seeder::{Seeder, sha256_digest};

/// A one-layer image: its layer holds one file whose text is `seed`, its
/// config says it was built at `created`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciImage {
    pub seed: String,
    pub created: OffsetDateTime,
}

impl OciImage {
    pub fn new(seed: impl Into<String>, created: OffsetDateTime) -> OciImage {
        OciImage {
            seed: seed.into(),
            created,
        }
    }

    /// Writes an OCI image layout (`oci-layout`, `index.json`, `blobs/`)
    /// holding this image under `tag` into `dir`; returns the manifest's
    /// digest.
    pub fn write_layout(&self, dir: &Path, tag: &str) -> io::Result<String> {
        let created = self.created.format(&Rfc3339).map_err(io::Error::other)?;
        let tar = one_file_tar("seed.txt", self.seed.as_bytes(), self.created);
        let mut gzip = GzEncoder::new(Vec::new(), Compression::fast());
        gzip.write_all(&tar)?;
        let layer = gzip.finish()?;
        let config = serde_json::to_vec(&json!({
            "created": created,
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [sha256_digest(&tar)]},
            "history": [{"created": created, "created_by": "cleanreg-testkit"}],
        }))?;
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": sha256_digest(&config),
                "size": config.len(),
            },
            "layers": [{
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": sha256_digest(&layer),
                "size": layer.len(),
            }],
        }))?;
        let blobs = dir.join("blobs/sha256");
        fs::create_dir_all(&blobs)?;
        for bytes in [&layer, &config, &manifest] {
            let digest = sha256_digest(bytes);
            fs::write(blobs.join(&digest["sha256:".len()..]), bytes)?;
        }
        let digest = sha256_digest(&manifest);
        fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        fs::write(
            dir.join("index.json"),
            serde_json::to_vec(&json!({
                "schemaVersion": 2,
                "manifests": [{
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": digest,
                    "size": manifest.len(),
                    "annotations": {"org.opencontainers.image.ref.name": tag},
                }],
            }))?,
        )?;
        Ok(digest)
    }
}

/// A ustar archive of one regular file.
fn one_file_tar(name: &str, content: &[u8], modified: OffsetDateTime) -> Vec<u8> {
    let mut header = [0u8; 512];
    let field = |header: &mut [u8; 512], at: usize, value: &[u8]| {
        header[at..at + value.len()].copy_from_slice(value);
    };
    field(&mut header, 0, name.as_bytes());
    field(&mut header, 100, b"0000644\0");
    field(&mut header, 108, b"0000000\0");
    field(&mut header, 116, b"0000000\0");
    field(
        &mut header,
        124,
        format!("{:011o}\0", content.len()).as_bytes(),
    );
    let seconds = modified.unix_timestamp().max(0);
    field(&mut header, 136, format!("{seconds:011o}\0").as_bytes());
    field(&mut header, 148, b"        ");
    header[156] = b'0';
    field(&mut header, 257, b"ustar\0");
    field(&mut header, 263, b"00");
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    field(&mut header, 148, format!("{sum:06o}\0 ").as_bytes());
    let mut tar = header.to_vec();
    tar.extend_from_slice(content);
    tar.resize(tar.len().div_ceil(512) * 512, 0);
    // Two zero blocks end the archive.
    tar.resize(tar.len() + 1024, 0);
    tar
}

/// Pushes `image` to `repository:tag` of the registry at `registry_url`
/// (`http://127.0.0.1:PORT`) with `skopeo copy --insecure-policy
/// --dest-tls-verify=false [--dest-creds USER:PASSWORD]
/// oci:DIR:TAG docker://127.0.0.1:PORT/REPOSITORY:TAG`, and returns the
/// digest the registry now serves for the tag, read through its API.
pub fn skopeo_push(
    registry_url: &str,
    credentials: Option<(String, String)>,
    repository: &str,
    tag: &str,
    image: &OciImage,
) -> io::Result<String> {
    let skopeo = process::find_binary("skopeo", "/usr/bin/skopeo").ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            "skopeo not found on PATH nor at /usr/bin/skopeo: install it \
             (apt-get install -y skopeo, or cargo xtask setup)",
        )
    })?;
    let host = registry_url
        .split_once("://")
        .map_or(registry_url, |(_, rest)| rest)
        .trim_end_matches('/');
    let work = tempfile::Builder::new()
        .prefix("cleanreg-skopeo-")
        .tempdir()?;
    let layout = work.path().join("layout");
    image.write_layout(&layout, tag)?;
    let mut command = Command::new(skopeo);
    command
        .arg("copy")
        .arg("--insecure-policy")
        .arg("--dest-tls-verify=false")
        // No login of the person running the tests is read.
        .env("REGISTRY_AUTH_FILE", work.path().join("auth.json"))
        .env("HOME", work.path())
        .env("XDG_RUNTIME_DIR", work.path());
    match &credentials {
        Some((user, password)) => command.arg(format!("--dest-creds={user}:{password}")),
        None => command.arg("--dest-no-creds"),
    };
    let output = command
        .arg(format!("oci:{}:{tag}", layout.display()))
        .arg(format!("docker://{host}/{repository}:{tag}"))
        .output()?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "skopeo copy to {host}/{repository}:{tag} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Seeder::new(registry_url, credentials)
        .tag_digest(repository, tag)
        .map_err(io::Error::other)?
        .ok_or_else(|| {
            io::Error::other(format!(
                "skopeo pushed {repository}:{tag}, but the registry does not serve the tag"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tar_header_checksum_is_what_tar_expects() {
        let tar = one_file_tar("a.txt", b"hello", OffsetDateTime::UNIX_EPOCH);
        assert_eq!(tar.len(), 512 * 4);
        let mut header = tar[..512].to_vec();
        let stored = String::from_utf8_lossy(&header[148..154]).into_owned();
        header[148..156].copy_from_slice(b"        ");
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        assert_eq!(u32::from_str_radix(&stored, 8).unwrap(), sum);
        assert_eq!(&tar[512..517], b"hello");
    }

    #[test]
    fn a_layout_names_its_manifest_under_the_tag() {
        let dir = tempfile::tempdir().unwrap();
        let image = OciImage::new("one", OffsetDateTime::UNIX_EPOCH);
        let digest = image.write_layout(dir.path(), "main").unwrap();
        let index: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.path().join("index.json")).unwrap()).unwrap();
        assert_eq!(index["manifests"][0]["digest"], digest.as_str());
        let manifest = fs::read(dir.path().join("blobs/sha256").join(&digest[7..])).unwrap();
        assert_eq!(sha256_digest(&manifest), digest);
        let other = OciImage::new("two", OffsetDateTime::UNIX_EPOCH)
            .write_layout(&dir.path().join("b"), "main")
            .unwrap();
        assert_ne!(other, digest);
    }
}
