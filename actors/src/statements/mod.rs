//! The statements plugin's actors. Placeholder: filled in by its issue.

use crate::Common;

/// What the statements actors need from the configuration.
#[derive(Debug, Clone, Default)]
pub struct Settings {}

/// Addresses of the statements actors, for the HTTP layer.
#[derive(Clone)]
pub struct Handles {}

/// Starts the statements actors; called once by `start_all`.
pub fn start(_settings: Settings, _common: &Common) -> Handles {
    Handles {}
}
