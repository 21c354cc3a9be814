//! A connected and scanned registry: the client that read it and what the
//! scan found. Made by the connect view, read by every other view and by
//! the planner.

use std::sync::Arc;

use cleanreg_core::{Client, DeletePermissions, Inventory, ScanScope};
use time::OffsetDateTime;

use crate::platform::fetch::FetchTransport;

/// A scanned registry: the client that read it and what it holds.
#[derive(Clone)]
pub struct Session {
    pub client: Arc<Client<FetchTransport>>,
    pub inventory: Arc<Inventory>,
    /// When the scan finished; the plan's ages are relative to it.
    pub scanned_at: OffsetDateTime,
    /// What was scanned: the catalog, or the Repositories field's names.
    pub scope: ScanScope,
    /// Repositories whose token grants no `delete` (token auth only): the
    /// plan marks their changes and apply never sends them.
    pub permissions: Arc<DeletePermissions>,
}
