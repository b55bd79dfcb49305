//! Pure rendering: reports and status data → text, tables and JSON/YAML strings. Nothing here
//! writes to the terminal or knows about the cluster; colour is a parameter.

pub mod change;
pub mod doctor;
pub mod github;
pub mod junit;
pub mod patch;
pub mod sarif;
pub mod status;
pub mod style;
pub mod validate;

use serde::Serialize;

/// Serialises a value as pretty JSON with a trailing newline.
pub fn json<T: Serialize>(value: &T) -> String {
    let mut s =
        serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// Serialises a value as YAML.
pub fn yaml<T: Serialize>(value: &T) -> String {
    serde_saphyr::to_string(value).unwrap_or_else(|e| format!("# cannot render YAML: {e}\n"))
}
