//! Pure rendering: reports and status data → text, tables and JSON/YAML strings. Nothing here
//! writes to the terminal or knows about the cluster; colour is a parameter.

pub mod change;
pub mod doctor;
pub mod github;
pub mod history;
pub mod junit;
pub mod patch;
pub mod sarif;
pub mod status;
pub mod style;
pub mod term;
pub mod validate;
pub mod value;

use serde::Serialize;

use crate::error::{Error, Result};

/// Serialises a value as pretty JSON with a trailing newline. A value that cannot be
/// serialised is an error (exit 3), never a half-written document on stdout.
pub fn json<T: Serialize>(value: &T) -> Result<String> {
    let mut s = serde_json::to_string_pretty(value)
        .map_err(|e| Error::incomplete(format!("cannot render the output as JSON: {e}")))?;
    s.push('\n');
    Ok(s)
}

/// Serialises a value as YAML; an error as [`json`]'s.
pub fn yaml<T: Serialize>(value: &T) -> Result<String> {
    serde_saphyr::to_string(value)
        .map_err(|e| Error::incomplete(format!("cannot render the output as YAML: {e}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_value_json_cannot_hold_is_an_error_not_a_broken_document() {
        // A map keyed by pairs has no JSON form.
        let bad: std::collections::BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        let err = super::json(&bad).expect_err("no JSON for it");
        assert_eq!(err.exit_code(), 3);
        assert!(
            err.message.contains("cannot render the output as JSON"),
            "{}",
            err.message
        );
        assert_eq!(
            super::json(&serde_json::json!({"a": "\""})).ok().as_deref(),
            Some("{\n  \"a\": \"\\\"\"\n}\n")
        );
    }
}
