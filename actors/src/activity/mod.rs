//! The activity plugin's actors. Placeholder: filled in by its issue.

use crate::Common;

/// What the activity actors need from the configuration.
#[derive(Debug, Clone, Default)]
pub struct Settings {}

/// Addresses of the activity actors, for the HTTP layer.
#[derive(Clone)]
pub struct Handles {}

/// Starts the activity actors; called once by `start_all`.
pub fn start(_settings: Settings, _common: &Common) -> Handles {
    Handles {}
}
