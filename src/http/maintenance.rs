//! The maintenance chapter of the API. Placeholder: filled in by its issue.

use actix_web::web;

use crate::config::Config;

/// The maintenance actors' settings, from the configuration.
pub fn settings(_config: &Config) -> actors::maintenance::Settings {
    actors::maintenance::Settings::default()
}

pub fn routes(_cfg: &mut web::ServiceConfig) {}
