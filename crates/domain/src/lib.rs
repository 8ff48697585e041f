//! Madang's pure rules: who may do what, what input is valid, how ids are made.
//! Nothing here performs I/O or knows about HTTP or SQL, so every rule is unit-testable
//! and shared by the REST API, the gateway and the store.

pub mod id;
pub mod permissions;
pub mod validate;

pub use id::{Id, IdGenerator};
pub use permissions::{GuildRole, Permissions};
