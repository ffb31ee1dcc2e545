//! The control API of a running galaxy: the server ([`api`]), its routes ([`routes`]) and bodies
//! ([`views`]), the typed client the verbs use ([`client`]), and how the verbs find the galaxy
//! ([`discovery`]).

pub mod api;
pub mod client;
pub mod discovery;
pub mod guard;
pub mod routes;
pub mod views;

pub use client::{Control, ControlError};
