//! The gateway over real WebSockets against a real server: protocol, delivery and
//! authorization, ordering and resume, and a cluster of nodes on PostgreSQL and NATS.

#[path = "../common/mod.rs"]
mod common;

mod client;
mod cluster;
mod delivery;
mod protocol;
mod resume;
