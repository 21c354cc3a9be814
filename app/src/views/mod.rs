//! The dashboard's views, a folder each: the components in `mod.rs` (and
//! files beside it for the larger parts) and what the view says and
//! computes as pure functions in `model.rs`, which never imports a
//! component.

pub mod apply;
pub mod connect;
pub mod inventory;
pub mod plan;
pub mod policy;
pub mod restore;
