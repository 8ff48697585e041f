//! Madang's server: the REST API, authentication and the wiring of one node. The binary
//! crate reads configuration and calls [`Application::build`].

mod api;
mod app;
mod auth;
pub mod config;
mod error;
mod extract;
mod gateway;
mod metrics;
mod rate_limit;
mod state;
mod voice;
mod web;

pub use api::openapi;
pub use app::Application;
pub use config::Config;
