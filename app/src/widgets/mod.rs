//! Pieces of page more than one view draws: the pager of every paged
//! table (with its page arithmetic) and the row of an apply outcome or a
//! restore result.

pub mod outcome_row;
pub mod pager;
pub mod paging;

pub use outcome_row::{OutcomeCells, OutcomeOf, OutcomeRow};
pub use pager::Pager;
