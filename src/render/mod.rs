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

/// Suggested commands (`` `kubectl ...` `` in hints) as the user must paste them: with the
/// `--context` they gave, so a pasted hint reaches the same cluster.
pub fn with_context<'a>(text: &'a str, context: Option<&str>) -> std::borrow::Cow<'a, str> {
    match context {
        Some(c) if !c.is_empty() => {
            let c = if c
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "-_.:@/".contains(ch))
            {
                c.to_string()
            } else {
                format!("'{}'", c.replace('\'', "'\\''"))
            };
            text.replace("`kubectl ", &format!("`kubectl --context {c} "))
                .into()
        }
        // Unchanged, not copied: a report can be many megabytes.
        _ => text.into(),
    }
}

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

#[cfg(test)]
mod tests {
    #[test]
    fn suggested_commands_carry_the_context() {
        let hint = "Use `kubectl feast pdb a -n ns --off` or `kubectl get pods -n ns`.";
        assert_eq!(
            super::with_context(hint, Some("prod-eu")),
            "Use `kubectl --context prod-eu feast pdb a -n ns --off` or `kubectl --context prod-eu get pods -n ns`."
        );
        assert_eq!(super::with_context(hint, None), hint);
        assert!(super::with_context("`kubectl x`", Some("a b")).contains("--context 'a b' x"));
    }
}
