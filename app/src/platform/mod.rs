//! The browser underneath the dashboard: the `fetch` transport and the
//! connection probes, the IndexedDB scan cache and scan history, timers and
//! the clock, downloads, file reading, the clipboard, storage and the URL
//! fragment, and the throttle for progress reports. Nothing here draws.

pub mod browser;
pub mod cache;
pub mod fetch;
pub mod history;
pub mod probe;
pub mod throttle;
pub mod timer;
