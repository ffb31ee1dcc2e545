//! The local galaxy.
