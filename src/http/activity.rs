//! The activity chapter of the API. Placeholder: filled in by its issue.

use actix_web::web;

use crate::config::Config;

/// The activity actors' settings, from the configuration.
pub fn settings(_config: &Config) -> actors::activity::Settings {
    actors::activity::Settings::default()
}

pub fn routes(_cfg: &mut web::ServiceConfig) {}
