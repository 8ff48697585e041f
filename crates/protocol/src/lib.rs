//! The JSON shapes Madang speaks: REST request and response bodies, error codes, and (with
//! the gateway) its frames. Clients' TypeScript types are generated from these definitions
//! through the OpenAPI document, so this crate is the single source of the wire format.

pub mod gateway;
mod id;
pub mod rest;
mod time;

pub use id::{EPOCH_MS, Id, InvalidId};
pub use time::Timestamp;
