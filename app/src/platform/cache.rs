//! The dashboard's scan cache: core's content-addressed [`Cache`] kept in
//! IndexedDB, so that after a reload a scan of an unchanged registry costs
//! one `HEAD` per tag (plus the catalog and the tag lists) instead of a
//! manifest and a config blob per image.
//!
//! What goes in is only what core puts there: manifests and image configs
//! under their digests, and a per-registry marker whose key is the
//! hash of the registry URL. No password, username or address is stored.
//! Core checks everything it takes out against its digest, so this
//! store keeps bytes and nothing else.
//!
//! One database (`cleanreg-cache`), one object store of records
//! `{v: Uint8Array, t: <ms since the epoch when written>}` keyed by core's
//! key, with an index on `t`. The database is opened once per page and kept.
//! Writes are buffered and committed in batches without waiting for them;
//! [`settle`] commits the rest after a scan and then trims the store to
//! [`MAX_ENTRIES`], oldest writes first.
//!
//! Whenever IndexedDB is missing, refuses, errors or does not answer within
//! [`OPEN_TIMEOUT_MS`], the cache is empty and forgets every write: a scan
//! never fails or waits because of it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use cleanreg_core::{Cache, Reuse};
use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbObjectStore, IdbRequest, IdbTransaction, IdbTransactionMode};

/// The database of the page's cache.
pub const DB_NAME: &str = "cleanreg-cache";
const DB_VERSION: u32 = 1;
const STORE: &str = "entries";
/// The index over the time each record was written.
const WRITTEN: &str = "written";

/// The bound the store is trimmed to after every finished scan. Counting
/// entries is cheap where summing bytes is not. Manifests are typically
/// 0.5 to 4 KiB and image configs 1 to 20 KiB (core caches none over
/// 1 MiB); a registry of 50,000 tags with two tags per image fills about
/// 75,000 entries, so 120,000 hold a scan of about 80,000 tags. The
/// browser's own storage quota bounds the bytes on top of this.
pub const MAX_ENTRIES: u32 = 120_000;

/// Writes buffered before they are committed together in one transaction.
const BATCH: usize = 256;

/// How long opening the database may take before the page does without.
pub const OPEN_TIMEOUT_MS: i32 = 3_000;

/// Core's [`Cache`] over one IndexedDB database, or no cache at all when
/// the database could not be opened.
pub struct IdbCache {
    db: Option<IdbDatabase>,
    /// Writes not yet handed to IndexedDB; `get` sees them too.
    pending: RefCell<HashMap<String, Vec<u8>>>,
    /// The store of the last read's transaction. A read issued while that
    /// transaction is still active (right after the previous answer, as a
    /// scan does) joins it instead of starting a new transaction.
    reader: RefCell<Option<IdbObjectStore>>,
}

impl IdbCache {
    /// Opens the page's cache database.
    pub async fn open() -> IdbCache {
        IdbCache::open_named(DB_NAME).await
    }

    /// Opens (creating if needed) the cache database `name`.
    pub async fn open_named(name: &str) -> IdbCache {
        IdbCache {
            db: open_database(name).await,
            pending: RefCell::new(HashMap::new()),
            reader: RefCell::new(None),
        }
    }

    /// A cache that holds nothing and remembers nothing.
    pub fn unavailable() -> IdbCache {
        IdbCache {
            db: None,
            pending: RefCell::new(HashMap::new()),
            reader: RefCell::new(None),
        }
    }

    /// Whether IndexedDB could be opened.
    pub fn is_available(&self) -> bool {
        self.db.is_some()
    }

    fn store(&self, mode: IdbTransactionMode) -> Option<(IdbTransaction, IdbObjectStore)> {
        let transaction = self
            .db
            .as_ref()?
            .transaction_with_str_and_mode(STORE, mode)
            .ok()?;
        let store = transaction.object_store(STORE).ok()?;
        Some((transaction, store))
    }

    async fn lookup(&self, key: &str) -> Option<Vec<u8>> {
        if let Some(value) = self.pending.borrow().get(key) {
            return Some(value.clone());
        }
        let key = JsValue::from_str(key);
        // An inactive or finished transaction refuses the request.
        let joined = self
            .reader
            .borrow()
            .as_ref()
            .and_then(|store| store.get(&key).ok());
        let request = match joined {
            Some(request) => request,
            None => {
                let (_transaction, store) = self.store(IdbTransactionMode::Readonly)?;
                let request = store.get(&key).ok()?;
                *self.reader.borrow_mut() = Some(store);
                request
            }
        };
        let record = answer(&request).await.ok()?;
        if !record.is_object() {
            return None;
        }
        let bytes = Reflect::get(&record, &JsValue::from_str("v")).ok()?;
        Some(bytes.dyn_into::<Uint8Array>().ok()?.to_vec())
    }

    fn remember(&self, key: &str, value: Vec<u8>) {
        if self.db.is_none() {
            return;
        }
        let full = {
            let mut pending = self.pending.borrow_mut();
            pending.insert(key.to_owned(), value);
            pending.len() >= BATCH
        };
        if full {
            // Fire and forget: a batch that fails is simply not remembered.
            let _ = self.flush();
        }
    }

    /// Hands the buffered writes to IndexedDB in one transaction; `None`
    /// when there was nothing to write or no database.
    fn flush(&self) -> Option<IdbTransaction> {
        // Later reads start a transaction that sees these writes.
        self.reader.borrow_mut().take();
        let pending = std::mem::take(&mut *self.pending.borrow_mut());
        if pending.is_empty() {
            return None;
        }
        let (transaction, store) = self.store(IdbTransactionMode::Readwrite)?;
        let written = JsValue::from_f64(js_sys::Date::now());
        let (value_field, time_field) = (JsValue::from_str("v"), JsValue::from_str("t"));
        for (key, value) in pending {
            let record = Object::new();
            let stored = Reflect::set(&record, &value_field, &Uint8Array::from(value.as_slice()))
                .and_then(|_| Reflect::set(&record, &time_field, &written));
            if stored.is_ok() {
                let _ = store.put_with_key(&record, &JsValue::from_str(&key));
            }
        }
        Some(transaction)
    }

    /// Commits every buffered write and waits until IndexedDB has them (all
    /// earlier batches too: write transactions on one store commit in
    /// order). `false` when the last batch failed.
    pub async fn commit(&self) -> bool {
        match self.flush() {
            Some(transaction) => committed(&transaction).await,
            None => true,
        }
    }

    /// How many entries the store holds; `None` without a database.
    pub async fn count(&self) -> Option<u32> {
        let (_transaction, store) = self.store(IdbTransactionMode::Readonly)?;
        let count = answer(&store.count().ok()?).await.ok()?;
        count.as_f64().map(|count| count as u32)
    }

    /// Deletes the oldest-written entries until at most `bound` are left;
    /// returns how many went, `None` when the store could not be read or
    /// the deletes failed.
    pub async fn trim(&self, bound: u32) -> Option<u32> {
        let count = self.count().await?;
        if count <= bound {
            return Some(0);
        }
        let (_transaction, store) = self.store(IdbTransactionMode::Readonly)?;
        let request = store
            .index(WRITTEN)
            .ok()?
            .get_all_keys_with_key_and_limit(&JsValue::NULL, count - bound)
            .ok()?;
        let oldest: Array = answer(&request).await.ok()?.dyn_into().ok()?;
        let (transaction, store) = self.store(IdbTransactionMode::Readwrite)?;
        for key in oldest.iter() {
            let _ = store.delete(&key);
        }
        committed(&transaction).await.then_some(oldest.length())
    }

    /// Deletes every entry. `false` when there is no database or the
    /// browser refused.
    pub async fn clear(&self) -> bool {
        self.pending.borrow_mut().clear();
        self.reader.borrow_mut().take();
        let Some((transaction, store)) = self.store(IdbTransactionMode::Readwrite) else {
            return false;
        };
        if store.clear().is_err() {
            return false;
        }
        committed(&transaction).await
    }
}

impl Cache for IdbCache {
    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.lookup(key).await
    }

    async fn put(&self, key: &str, value: Vec<u8>) {
        self.remember(key, value);
    }

    /// Without a database nothing is remembered: a scan skips the work
    /// meant only for the store (history records).
    fn is_on(&self) -> bool {
        self.is_available()
    }
}

thread_local! {
    /// The page's cache, once opened.
    static SHARED: RefCell<Option<Rc<IdbCache>>> = const { RefCell::new(None) };
}

/// The page's cache: opened on first use and kept. A failed open is tried
/// again next time (it may have been blocked for a moment).
pub async fn shared() -> Rc<IdbCache> {
    if let Some(cache) = SHARED.with_borrow(Clone::clone) {
        return cache;
    }
    let cache = Rc::new(IdbCache::open().await);
    if cache.is_available() {
        SHARED.with_borrow_mut(|shared| *shared = Some(Rc::clone(&cache)));
    }
    cache
}

/// After a finished scan: commits the last writes (so a reload right after
/// the scan finds them), then trims the store in the background.
pub async fn settle(cache: &Rc<IdbCache>) {
    if !cache.is_available() {
        return;
    }
    cache.commit().await;
    let cache = Rc::clone(cache);
    wasm_bindgen_futures::spawn_local(async move {
        let _ = cache.trim(MAX_ENTRIES).await;
    });
}

/// Opens the database, creating its store on first use; `None` when
/// IndexedDB is missing, refuses, is blocked or does not answer in time.
async fn open_database(name: &str) -> Option<IdbDatabase> {
    let factory = web_sys::window()?.indexed_db().ok()??;
    let request = factory.open_with_u32(name, DB_VERSION).ok()?;
    // Self-freeing callbacks: they may fire after this function gave up.
    let upgrade = Closure::once_into_js(|event: web_sys::Event| {
        if let Some(db) = event_database(&event)
            && let Ok(store) = db.create_object_store(STORE)
        {
            let _ = store.create_index_with_str(WRITTEN, "t");
        }
    });
    request.set_onupgradeneeded(Some(upgrade.unchecked_ref()));
    let opened = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
        request.set_onblocked(Some(&reject));
        if let Some(window) = web_sys::window() {
            let _ = window
                .set_timeout_with_callback_and_timeout_and_arguments_0(&reject, OPEN_TIMEOUT_MS);
        }
    });
    let opened = JsFuture::from(opened).await.is_ok();
    let db = request
        .result()
        .ok()
        .and_then(|result| result.dyn_into::<IdbDatabase>().ok());
    if !opened {
        // Given up on: close the database should it open after all, so it
        // blocks nobody.
        match db {
            Some(db) => db.close(),
            None => {
                let close = Closure::once_into_js(|event: web_sys::Event| {
                    if let Some(db) = event_database(&event) {
                        db.close();
                    }
                });
                request.set_onsuccess(Some(close.unchecked_ref()));
            }
        }
        return None;
    }
    let db = db?;
    // Another tab upgrading the database asks this one to step aside; from
    // then on every read misses and every write is dropped.
    let step_aside = Closure::once_into_js(|event: web_sys::Event| {
        if let Some(db) = event
            .target()
            .and_then(|target| target.dyn_into::<IdbDatabase>().ok())
        {
            db.close();
        }
    });
    db.set_onversionchange(Some(step_aside.unchecked_ref()));
    // A database without the store (a failed upgrade) is no cache.
    if db.transaction_with_str(STORE).is_err() {
        db.close();
        return None;
    }
    Some(db)
}

/// The database an open request's event carries.
fn event_database(event: &web_sys::Event) -> Option<IdbDatabase> {
    event
        .target()?
        .dyn_into::<web_sys::IdbOpenDbRequest>()
        .ok()?
        .result()
        .ok()?
        .dyn_into::<IdbDatabase>()
        .ok()
}

/// The result of a request once it succeeded.
async fn answer(request: &IdbRequest) -> Result<JsValue, JsValue> {
    let settled = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    JsFuture::from(settled).await?;
    request.result()
}

/// Whether a transaction committed.
async fn committed(transaction: &IdbTransaction) -> bool {
    let settled = Promise::new(&mut |resolve, reject| {
        transaction.set_oncomplete(Some(&resolve));
        transaction.set_onabort(Some(&reject));
        transaction.set_onerror(Some(&reject));
    });
    JsFuture::from(settled).await.is_ok()
}

/// What a scan took from the cache, for the status line, e.g. "12 of 12
/// manifests and 10 of 10 configs from the cache".
pub fn cache_note(reuse: &Reuse, available: bool) -> String {
    if !available {
        return "no cache: this browser does not allow IndexedDB here".to_owned();
    }
    let manifests = reuse.manifests_total();
    let configs = reuse.configs_cached + reuse.configs_fetched + reuse.configs_reused;
    format!(
        "{} of {manifests} {} and {} of {configs} {} from the cache",
        reuse.manifests_cached,
        if manifests == 1 {
            "manifest"
        } else {
            "manifests"
        },
        reuse.configs_cached,
        if configs == 1 { "config" } else { "configs" },
    )
}

/// What pressing "Forget the scan cache" did.
pub fn forget_note(available: bool, cleared: bool) -> &'static str {
    match (available, cleared) {
        (false, _) => "This browser keeps no scan cache here (IndexedDB is unavailable).",
        (true, true) => "Scan cache deleted: the next scan reads every manifest from the registry.",
        (true, false) => "The browser could not delete the scan cache.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_counts_what_came_from_the_cache() {
        let reuse = Reuse {
            manifests_cached: 12,
            configs_cached: 10,
            ..Reuse::default()
        };
        assert_eq!(
            cache_note(&reuse, true),
            "12 of 12 manifests and 10 of 10 configs from the cache"
        );
        let first = Reuse {
            manifests_fetched: 1,
            configs_fetched: 1,
            ..Reuse::default()
        };
        assert_eq!(
            cache_note(&first, true),
            "0 of 1 manifest and 0 of 1 config from the cache"
        );
        let some = Reuse {
            manifests_cached: 3,
            manifests_fetched: 2,
            configs_cached: 2,
            configs_fetched: 1,
            ..Reuse::default()
        };
        assert_eq!(
            cache_note(&some, true),
            "3 of 5 manifests and 2 of 3 configs from the cache"
        );
        assert!(cache_note(&reuse, false).starts_with("no cache"));
    }

    #[test]
    fn forgetting_says_what_happened() {
        assert!(forget_note(true, true).contains("deleted"));
        assert!(forget_note(true, false).contains("could not"));
        assert!(forget_note(false, false).contains("unavailable"));
        assert!(forget_note(false, true).contains("unavailable"));
    }
}

/// The store in a real browser (wasm-bindgen-test, headless Chromium), each
/// test on its own database.
#[cfg(all(test, target_arch = "wasm32"))]
mod browser_tests {
    use super::*;
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    wasm_bindgen_test_configure!(run_in_browser);

    async fn fresh(name: &str) -> IdbCache {
        let cache = IdbCache::open_named(name).await;
        assert!(cache.is_available(), "IndexedDB did not open");
        assert!(cache.clear().await);
        cache
    }

    /// Waits a few milliseconds so writes get distinct times.
    async fn tick() {
        crate::platform::timer::sleep_ms(5).await;
    }

    #[wasm_bindgen_test]
    async fn bytes_come_back_after_a_reopen_and_misses_are_none() {
        let name = "cleanreg-test-round-trip";
        let cache = fresh(name).await;
        let value: Vec<u8> = (0..=255).collect();
        cache.put("manifest/sha256:aa", value.clone()).await;
        // Buffered writes are visible before they are committed.
        assert_eq!(cache.get("manifest/sha256:aa").await, Some(value.clone()));
        assert!(cache.commit().await);
        assert_eq!(cache.count().await, Some(1));
        assert_eq!(cache.get("manifest/sha256:bb").await, None);
        let reopened = IdbCache::open_named(name).await;
        assert_eq!(
            reopened.get("manifest/sha256:aa").await,
            Some(value.clone())
        );
        assert_eq!(reopened.get("config/sha256:aa").await, None);
        // An empty value is a value, not a miss.
        reopened.put("config/sha256:cc", Vec::new()).await;
        assert!(reopened.commit().await);
        assert_eq!(cache.get("config/sha256:cc").await, Some(Vec::new()));
    }

    #[wasm_bindgen_test]
    async fn more_than_a_batch_is_committed() {
        let cache = fresh("cleanreg-test-batches").await;
        let total = BATCH * 2 + 7;
        for n in 0..total {
            cache
                .put(&format!("config/sha256:{n:04}"), vec![n as u8])
                .await;
        }
        assert!(cache.commit().await);
        assert_eq!(cache.count().await, Some(total as u32));
        for n in [0, BATCH, total - 1] {
            assert_eq!(
                cache.get(&format!("config/sha256:{n:04}")).await,
                Some(vec![n as u8])
            );
        }
    }

    #[wasm_bindgen_test]
    async fn clear_empties_the_store() {
        let cache = fresh("cleanreg-test-clear").await;
        cache.put("manifest/sha256:01", vec![1]).await;
        assert!(cache.commit().await);
        cache.put("manifest/sha256:02", vec![2]).await;
        assert!(cache.clear().await);
        assert_eq!(cache.count().await, Some(0));
        assert_eq!(cache.get("manifest/sha256:01").await, None);
        // The buffered write went too.
        assert!(cache.commit().await);
        assert_eq!(cache.get("manifest/sha256:02").await, None);
    }

    #[wasm_bindgen_test]
    async fn trim_keeps_the_newest() {
        let cache = fresh("cleanreg-test-trim").await;
        for n in 0..5u8 {
            cache.put(&format!("manifest/sha256:{n:02}"), vec![n]).await;
            assert!(cache.commit().await);
            tick().await;
        }
        // Written again last: the oldest write of it no longer counts.
        cache.put("manifest/sha256:00", vec![9]).await;
        assert!(cache.commit().await);
        assert_eq!(cache.trim(10).await, Some(0));
        assert_eq!(cache.count().await, Some(5));
        assert_eq!(cache.trim(3).await, Some(2));
        assert_eq!(cache.count().await, Some(3));
        for (n, expected) in [
            (0, Some(vec![9])),
            (1, None),
            (2, None),
            (3, Some(vec![3])),
            (4, Some(vec![4])),
        ] {
            assert_eq!(
                cache.get(&format!("manifest/sha256:{n:02}")).await,
                expected,
                "entry {n}"
            );
        }
    }

    #[wasm_bindgen_test]
    async fn without_indexeddb_nothing_is_kept() {
        let cache = IdbCache::unavailable();
        assert!(!cache.is_on());
        assert!(fresh("cleanreg-test-on").await.is_on());
        cache.put("manifest/sha256:aa", vec![1]).await;
        assert_eq!(cache.get("manifest/sha256:aa").await, None);
        assert!(cache.commit().await);
        assert!(!cache.clear().await);
        assert_eq!(cache.trim(0).await, None);
    }
}
