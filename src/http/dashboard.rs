//! The dashboard chapter of the API. Placeholder: filled in by its issue.

use actix_web::web;

use crate::config::Config;

/// The dashboard actors' settings, from the configuration.
pub fn settings(_config: &Config) -> actors::dashboard::Settings {
    actors::dashboard::Settings::default()
}

pub fn routes(_cfg: &mut web::ServiceConfig) {}
