//! The pgconf chapter of the API. Placeholder: filled in by its issue.

use actix_web::web;

use crate::config::Config;

/// The pgconf actors' settings, from the configuration.
pub fn settings(_config: &Config) -> actors::pgconf::Settings {
    actors::pgconf::Settings::default()
}

pub fn routes(_cfg: &mut web::ServiceConfig) {}
