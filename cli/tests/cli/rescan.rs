//! A rescan that reuses the previous inventory against a real registry:
//! after tags move, images arrive and a manifest goes, it must give exactly
//! the inventory a fresh scan gives, with fewer reads.

use crate::common::{arg, block_on};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use cleanreg::NativeTransport;
use cleanreg::cache::DirCache;
use cleanreg_core::{Client, Inventory, Reuse, ScanScope, Transport, TransportError};
use cleanreg_testkit::{Fixture, ImageFormat, ImageSpec, IndexSpec, Seed};
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

fn count(counts: &BTreeMap<String, usize>, key: &str) -> usize {
    counts.get(key).copied().unwrap_or(0)
}

#[test]
fn a_rescan_equals_a_fresh_scan_and_reads_less() {
    let now = OffsetDateTime::now_utc();
    let Fixture {
        registry,
        seeder,
        zoo,
        ..
    } = Fixture::open().seed(Seed::Zoo { now }).start();
    let zoo = zoo.expect("the zoo");
    let counting = Counting::new();
    let client = crate::common::client_over(&counting, &registry.url(), None);
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
        ..
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

fn tag_count(inventory: &Inventory) -> usize {
    inventory.repositories.values().map(|r| r.tags.len()).sum()
}

#[test]
fn a_warm_cache_costs_a_head_per_tag_and_changes_nothing() {
    let now = OffsetDateTime::now_utc();
    let Fixture {
        registry,
        seeder,
        zoo,
        ..
    } = Fixture::open().seed(Seed::Zoo { now }).start();
    let zoo = zoo.expect("the zoo");
    let dir = tempfile::tempdir().unwrap();
    let cache = DirCache::new(dir.path().join("cache"), 64 << 20);
    let counting = Counting::new();
    // A new client each time, as a new `cleanreg` process would be.
    let client = || crate::common::client_over(&counting, &registry.url(), None);
    let cached = |cache: &DirCache| {
        block_on(client().scan_cached(&ScanScope::Catalog, cache, &mut |_| {})).unwrap()
    };
    let uncached = || block_on(client().scan(&ScanScope::Catalog, &mut |_| {})).unwrap();

    let (cold, reuse) = cached(&cache);
    let cold_counts = counting.take();
    assert_eq!(reuse.manifests_cached, 0, "{reuse:?}");
    assert_eq!(reuse.configs_cached, 0, "{reuse:?}");
    // A cold cache costs no more than no cache: one GET per tag, no HEAD.
    let tags = tag_count(&cold);
    assert!(tags >= 20, "{tags}");
    assert!(
        count(&cold_counts, "GET manifest") >= tags,
        "{cold_counts:?}"
    );
    let subject_heads = count(&cold_counts, "HEAD manifest");

    let (warm, reuse) = cached(&cache);
    let warm_counts = counting.take();
    assert_eq!(warm, cold, "a warm scan must equal the cold one");
    assert_eq!(count(&warm_counts, "GET manifest"), 0, "{warm_counts:?}");
    assert_eq!(count(&warm_counts, "GET blob"), 0, "{warm_counts:?}");
    assert_eq!(
        count(&warm_counts, "HEAD manifest"),
        tags + subject_heads,
        "{warm_counts:?}"
    );
    assert_eq!(reuse.manifests_fetched, 0, "{reuse:?}");
    assert_eq!(reuse.configs_fetched, 0, "{reuse:?}");
    assert!(reuse.manifests_cached > tags / 2, "{reuse:?}");

    // The registry changes: a tag moves, a new image arrives. The cached
    // scan equals a scan without the cache and fetches only what is new.
    seeder
        .push_manifest(
            "zoo/multiarch",
            "latest",
            &zoo.multiarch.v2.media_type,
            &zoo.multiarch.v2.manifest,
        )
        .unwrap();
    let fresh_image =
        ImageSpec::new("cache-new", Some(now - time::Duration::hours(3))).with_layers([512]);
    seeder
        .push_image("zoo/dates", &fresh_image, &["cache-new"])
        .unwrap();
    let fresh = uncached();
    counting.take();
    let (changed, reuse) = cached(&cache);
    assert_eq!(changed, fresh);
    assert_eq!(reuse.manifests_fetched, 1, "{reuse:?}");
    assert_eq!(reuse.configs_fetched, 1, "{reuse:?}");
    counting.take();

    // A damaged entry is a miss, never a wrong inventory.
    let digest: cleanreg_core::Digest = zoo.dates.newest.digest.parse().unwrap();
    let file = dir
        .path()
        .join("cache/manifest")
        .join(format!("sha256-{}", digest.hex()));
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0x20;
    std::fs::write(&file, bytes).unwrap();
    let (repaired, reuse) = cached(&cache);
    assert_eq!(repaired, fresh);
    assert_eq!(reuse.manifests_fetched, 1, "{reuse:?}");
    // ...and the good copy is stored again.
    let (again, reuse) = cached(&cache);
    assert_eq!(again, fresh);
    assert_eq!(reuse.manifests_fetched, 0, "{reuse:?}");

    // So is a damaged config: its build date could decide a delete.
    let config = std::fs::read_dir(dir.path().join("cache/config"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(&config, br#"{"created":"1999-01-01T00:00:00Z"}"#).unwrap();
    let (repaired, reuse) = cached(&cache);
    assert_eq!(repaired, fresh);
    assert_eq!(reuse.configs_fetched, 1, "{reuse:?}");

    // Deleting the whole cache is safe: the next scan reads everything.
    std::fs::remove_dir_all(dir.path().join("cache")).unwrap();
    let (emptied, reuse) = cached(&cache);
    assert_eq!(emptied, fresh);
    assert_eq!(reuse.manifests_cached, 0, "{reuse:?}");
}

#[test]
fn the_command_keeps_its_cache_where_told_and_none_with_no_cache() {
    let Fixture {
        registry,
        seeder: _,
        ..
    } = Fixture::open().zoo().start();
    let home = tempfile::tempdir().unwrap();
    let xdg = home.path().join("xdg");
    let url = registry.url();
    let cli = crate::common::cleanreg();
    let run = |extra: &[&str]| {
        let mut args = vec!["-r", &url, "--clean-full-catalog", "-k", "1", "--dry-run"];
        args.extend_from_slice(extra);
        // This user's home and cache directory, not the runner's.
        let ran = cli.run_with(
            &args,
            &[("HOME", arg(home.path())), ("XDG_CACHE_HOME", arg(&xdg))],
            "",
        );
        assert!(ran.code == Some(0), "{}", ran.shown());
        ran.stdout
    };
    let files = |dir: &std::path::Path| -> usize {
        std::fs::read_dir(dir.join("manifest"))
            .map(|entries| entries.count())
            .unwrap_or(0)
    };
    let plain = run(&["--no-cache"]);
    assert!(!home.path().join("xdg").exists());
    let first = run(&[]);
    assert!(files(&home.path().join("xdg/cleanreg")) > 10);
    let second = run(&[]);
    assert_eq!(first, plain, "the cache changes no plan");
    assert_eq!(second, plain, "a warm cache changes no plan");
    let elsewhere = home.path().join("elsewhere");
    run(&["--cache-dir", elsewhere.to_str().unwrap()]);
    assert!(files(&elsewhere) > 10);
}
