//! The pgconf plugin: PostgreSQL settings read from `pg_settings` and the
//! configuration files, changed with `ALTER SYSTEM`.
//!
//! - `settings_editor`: `SettingsEditor`, the actor that owns the reads and the changes (one change
//!   at a time, all items or none).
//! - `catalog`: the queries and statements it runs, and the JSON shape of a row.
//! - `value`: checks a value as PostgreSQL parses it (pure).
//! - `quote`: builds `ALTER SYSTEM` with a quoted identifier and escaped literals
//!   (pure).

pub mod catalog;
pub mod quote;
pub mod secret;
pub mod settings_editor;
pub mod value;

use actix::{Actor, Addr};

use crate::Common;
pub use settings_editor::SettingsEditor;

/// What the pgconf actors need from the configuration: nothing yet (the plugin
/// has no configuration keys).
#[derive(Debug, Clone, Default)]
pub struct Settings {}

/// Addresses of the pgconf actors, for the HTTP layer.
#[derive(Clone)]
pub struct Handles {
    pub conf: Addr<SettingsEditor>,
}

/// Starts the pgconf actors; called once by `start_all`.
pub fn start(_settings: Settings, common: &Common) -> Handles {
    let conf = SettingsEditor::new(
        common.pg.clone(),
        common.notifications.clone(),
        common.log.new(slog::o!("plugin" => "pgconf")),
    )
    .start();
    Handles { conf }
}
