//! The Death Star server.
