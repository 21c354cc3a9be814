//! The dashboard's scan history: what earlier scans saw of each repository
//! (core's `history/sha256:<hex>` records), kept in IndexedDB so that a
//! later scan, after a reload too, finds the manifests a moved tag left
//! behind: the registry lists tags, not manifests.
//!
//! A database of its own (`cleanreg-history`), apart from the scan cache:
//! the cache is trimmed after every scan and forgetting it is always safe,
//! while a history record that goes is knowledge the registry cannot give
//! back. The records hold digests, tags and times under keys that are
//! hashes of the registry URL and the repository name; no credentials.
//!
//! The store is [`IdbCache`] (records `{v, t}` under core's keys), never
//! trimmed and forgotten only by its own button. Where IndexedDB is
//! unavailable there is no history: scans still run, they only find no
//! untagged manifests. The dashboard finds untagged manifests through
//! history only, as a page cannot read the registry's storage.

use std::cell::RefCell;
use std::rc::Rc;

use crate::platform::cache::IdbCache;

/// The database of the page's scan history.
pub const HISTORY_DB: &str = "cleanreg-history";

thread_local! {
    /// The page's history store, once opened.
    static SHARED: RefCell<Option<Rc<IdbCache>>> = const { RefCell::new(None) };
}

/// The page's history store: opened on first use and kept. A failed open
/// is tried again next time.
pub async fn shared() -> Rc<IdbCache> {
    if let Some(history) = SHARED.with_borrow(Clone::clone) {
        return history;
    }
    let history = Rc::new(IdbCache::open_named(HISTORY_DB).await);
    if history.is_available() {
        SHARED.with_borrow_mut(|shared| *shared = Some(Rc::clone(&history)));
    }
    history
}

/// After a finished scan: commits the records it wrote, so a reload right
/// after the scan finds them. Never trimmed.
pub async fn settle(history: &IdbCache) {
    if history.is_available() {
        history.commit().await;
    }
}

/// What the scan status adds about history: only that there is none.
pub fn history_note(available: bool) -> Option<&'static str> {
    (!available).then_some(
        "no scan history: this browser does not allow IndexedDB here, so manifests a moved tag \
         left behind are not found",
    )
}

/// What pressing "Forget the scan history" did.
pub fn forget_note(available: bool, cleared: bool) -> &'static str {
    match (available, cleared) {
        (false, _) => "This browser keeps no scan history here (IndexedDB is unavailable).",
        (true, true) => {
            "Scan history deleted: untagged manifests that only it knew of are no longer found \
             by this browser; they stay in the registry."
        }
        (true, false) => "The browser could not delete the scan history.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgetting_says_what_it_costs() {
        assert!(forget_note(true, true).contains("deleted"));
        assert!(forget_note(true, true).contains("stay in the registry"));
        assert!(forget_note(true, false).contains("could not"));
        assert!(forget_note(false, true).contains("unavailable"));
        assert!(history_note(true).is_none());
        assert!(history_note(false).unwrap().starts_with("no scan history"));
    }
}

/// The history store in a real browser (wasm-bindgen-test, headless
/// Chromium): a database of its own, which the cache's trim and clear
/// never touch.
#[cfg(all(test, target_arch = "wasm32"))]
mod browser_tests {
    use super::*;
    use crate::platform::cache::DB_NAME;
    use cleanreg_core::Cache;
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    async fn history_survives_the_caches_trim_and_clear() {
        let cache = IdbCache::open_named(DB_NAME).await;
        let history = shared().await;
        assert!(cache.is_available() && history.is_available());
        assert!(history.clear().await);
        let key = "history/sha256:0123";
        history.put(key, b"{\"format\":1}".to_vec()).await;
        settle(&history).await;
        assert!(cache.clear().await);
        cache.put("manifest/sha256:aa", vec![1]).await;
        assert!(cache.commit().await);
        assert_eq!(cache.trim(0).await, Some(1), "the cache's one entry went");
        assert!(cache.clear().await);
        // The same page's store and a fresh handle both still have it.
        assert_eq!(history.get(key).await, Some(b"{\"format\":1}".to_vec()));
        let reopened = IdbCache::open_named(HISTORY_DB).await;
        assert_eq!(reopened.get(key).await, Some(b"{\"format\":1}".to_vec()));
        assert_eq!(reopened.count().await, Some(1));
        // Forgetting it empties it.
        assert!(history.clear().await);
        assert_eq!(reopened.get(key).await, None);
    }
}
