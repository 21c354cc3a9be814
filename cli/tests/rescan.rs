//! A rescan that reuses the previous inventory against a real registry:
//! after tags move, images arrive and a manifest goes, it must give exactly
//! the inventory a fresh scan gives, with fewer reads.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use cleanreg::NativeTransport;
use cleanreg_core::{Client, Inventory, RegistryUrl, Reuse, ScanScope, Transport, TransportError};
use cleanreg_testkit::{
    ImageFormat, ImageSpec, IndexSpec, Registry, RegistryOptions, Seeder, protocol_zoo,
};
use http::{Request, Response};
use time::OffsetDateTime;

/// The native transport, counting requests by method and kind of path.
struct Counting {
    inner: NativeTransport,
    counts: Mutex<BTreeMap<String, usize>>,
}

impl Counting {
    fn new() -> Counting {
        Counting {
            inner: NativeTransport::new(false),
            counts: Mutex::new(BTreeMap::new()),
        }
    }

    /// The counts so far, and zero again.
    fn take(&self) -> BTreeMap<String, usize> {
        std::mem::take(&mut *self.counts.lock().unwrap())
    }
}

fn kind(path: &str) -> &'static str {
    if path.contains("/manifests/") {
        "manifest"
    } else if path.contains("/blobs/") {
        "blob"
    } else if path.ends_with("/tags/list") {
        "tags"
    } else {
        "other"
    }
}

impl Transport for Counting {
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        let key = format!("{} {}", request.method(), kind(request.uri().path()));
        *self.counts.lock().unwrap().entry(key).or_default() += 1;
        self.inner.send(request).await
    }

    async fn sleep(&self, duration: Duration) {
        self.inner.sleep(duration).await;
    }

    fn now(&self) -> OffsetDateTime {
        self.inner.now()
    }
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    futures_executor::block_on(future)
}

fn count(counts: &BTreeMap<String, usize>, key: &str) -> usize {
    counts.get(key).copied().unwrap_or(0)
}

#[test]
fn a_rescan_equals_a_fresh_scan_and_reads_less() {
    let registry = Registry::start(RegistryOptions::default()).unwrap();
    let seeder = Seeder::new(&registry.url(), None);
    let now = OffsetDateTime::now_utc();
    let zoo = protocol_zoo(&seeder, now).unwrap();
    let counting = Counting::new();
    let client = Client::new(
        &counting,
        RegistryUrl::parse(&registry.url()).unwrap(),
        None,
    );
    let scan = |client: &Client<&Counting>| -> Inventory {
        block_on(client.scan(&ScanScope::Catalog, &mut |_| {})).unwrap()
    };

    // An image that will also be pushed to a new repository later: same
    // manifest and config, so its config date is reused there.
    let day = time::Duration::days(1);
    let copied = ImageSpec::new("rescan-copied", Some(now - day * 2));
    seeder
        .push_image("zoo/dates", &copied, &["copied"])
        .unwrap();

    let before = scan(&client);
    counting.take();

    // Nothing changed: the rescan fetches no manifest and no config.
    let (same, reuse) = block_on(client.rescan(&ScanScope::Catalog, &before, &mut |_| {})).unwrap();
    assert_eq!(same, before);
    assert_eq!(reuse.manifests_fetched, 0, "{reuse:?}");
    assert_eq!(reuse.configs_fetched, 0, "{reuse:?}");
    let counts = counting.take();
    assert_eq!(count(&counts, "GET manifest"), 0, "{counts:?}");
    assert_eq!(count(&counts, "GET blob"), 0, "{counts:?}");

    // Change the registry: a tag moves to another index, a new image and a
    // new index (one child shared with an existing index) arrive, a new
    // repository appears, and an index is deleted.
    let multiarch = "zoo/multiarch";
    seeder
        .push_manifest(
            multiarch,
            "latest",
            &zoo.multiarch.v2.media_type,
            &zoo.multiarch.v2.manifest,
        )
        .unwrap();
    let fresh_image = ImageSpec::new("rescan-new", Some(now - day)).with_layers([1024]);
    seeder
        .push_image("zoo/dates", &fresh_image, &["rescan"])
        .unwrap();
    let shared = zoo.multiarch.v3.children[0].clone();
    let new_index = IndexSpec::new(
        ImageFormat::Oci,
        [ImageSpec::new("rescan-arm", Some(now)).with_platform("arm64", "linux")],
    )
    .with_tag("v4");
    let pushed = seeder.push_index(multiarch, &new_index).unwrap();
    // The new index lists the new child and an existing one.
    let mut listing = pushed.manifest.clone();
    let text = String::from_utf8(listing.clone()).unwrap();
    assert!(text.contains("\"manifests\":["), "{text}");
    let shared_entry = format!(
        "{{\"mediaType\":\"{}\",\"digest\":\"{}\",\"size\":{},\"platform\":{{\"architecture\":\"amd64\",\"os\":\"linux\"}}}},",
        shared.media_type,
        shared.digest,
        shared.manifest.len()
    );
    listing = text
        .replacen(
            "\"manifests\":[",
            &format!("\"manifests\":[{shared_entry}"),
            1,
        )
        .into_bytes();
    seeder
        .push_manifest(multiarch, "v5", &pushed.media_type, &listing)
        .unwrap();
    seeder
        .push_image(
            "zoo/new",
            &ImageSpec::new("rescan-repo", Some(now)).with_format(ImageFormat::Oci),
            &["1"],
        )
        .unwrap();
    seeder.push_image("zoo/copy", &copied, &["same"]).unwrap();
    let gone = zoo.multiarch.v1.digest.parse().unwrap();
    block_on(client.delete_manifest(&multiarch.parse().unwrap(), &gone)).unwrap();
    counting.take();

    let fresh = scan(&client);
    let fresh_counts = counting.take();
    let (rescanned, reuse) =
        block_on(client.rescan(&ScanScope::Catalog, &before, &mut |_| {})).unwrap();
    let rescan_counts = counting.take();

    assert_eq!(rescanned, fresh, "a rescan must equal a fresh scan");
    let multiarch_repo = &fresh.repositories[&multiarch.parse().unwrap()];
    assert!(!multiarch_repo.tags.contains_key(&"v1".parse().unwrap()));
    assert_eq!(
        multiarch_repo.tags[&"latest".parse().unwrap()].to_string(),
        zoo.multiarch.v2.digest
    );
    assert!(fresh.repositories.contains_key(&"zoo/new".parse().unwrap()));

    // New: the tag `rescan`, `v4` and `v5` (indexes) with one new child,
    // `zoo/new:1`, `zoo/copy:same` (known digest, but not in that
    // repository); everything else is reused, and so is the config date
    // of `zoo/copy:same`.
    let Reuse {
        manifests_reused,
        manifests_fetched,
        configs_reused,
        configs_fetched,
    } = reuse;
    assert_eq!(manifests_fetched, 6, "{reuse:?}");
    assert!(manifests_reused >= 20, "{reuse:?}");
    assert_eq!(configs_fetched, 3, "{reuse:?}");
    assert_eq!(configs_reused, 1, "{reuse:?}");
    assert_eq!(
        count(&rescan_counts, "GET manifest"),
        manifests_fetched,
        "{rescan_counts:?}"
    );
    assert!(
        count(&rescan_counts, "GET manifest") * 4 < count(&fresh_counts, "GET manifest"),
        "fresh {fresh_counts:?}, rescan {rescan_counts:?}"
    );
    assert!(
        count(&rescan_counts, "GET blob") < count(&fresh_counts, "GET blob"),
        "fresh {fresh_counts:?}, rescan {rescan_counts:?}"
    );
}
