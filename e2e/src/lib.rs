//! The dashboard end-to-end test lives in tests/.
