//! The pgconf plugin's actors. Placeholder: filled in by its issue.

use crate::Common;

/// What the pgconf actors need from the configuration.
#[derive(Debug, Clone, Default)]
pub struct Settings {}

/// Addresses of the pgconf actors, for the HTTP layer.
#[derive(Clone)]
pub struct Handles {}

/// Starts the pgconf actors; called once by `start_all`.
pub fn start(_settings: Settings, _common: &Common) -> Handles {
    Handles {}
}
