//! End-to-end tests of the SFU against simulated browsers (str0m peers) on a simulated network.

mod connectivity;
mod harness;
mod media;
mod rooms;
