//! The statements chapter of the API. Placeholder: filled in by its issue.

use actix_web::web;

use crate::config::Config;

/// The statements actors' settings, from the configuration.
pub fn settings(_config: &Config) -> actors::statements::Settings {
    actors::statements::Settings::default()
}

pub fn routes(_cfg: &mut web::ServiceConfig) {}
