//! A JSON value as a person reads it in a line of text: YAML's flow style (`{maxUnavailable: 1}`,
//! `[cpu, memory]`, `50%`) rather than JSON's quotes, and a change's fields one leaf per line.
//! Pure.

use serde_json::Value;

/// `v` inline, as YAML's flow style writes it; a string is quoted only where YAML would read it
/// as something else (a number, a boolean, null) or where it holds characters a flow needs.
pub fn inline(v: &Value) -> String {
    match v {
        Value::String(s) => scalar(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(inline).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", scalar(k), inline(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./%@+".contains(c))
        && s.parse::<f64>().is_err()
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "~"
        );
    if plain {
        s.to_string()
    } else {
        Value::String(s.to_string()).to_string()
    }
}

/// Each leaf of `v` under `path` with its value inline: `path.a.b`, lists as `path[0]`; an empty
/// object or list is a leaf of its own.
pub fn leaves(path: &str, v: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    walk(path.to_string(), v, &mut out);
    out
}

fn walk(path: String, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) if !map.is_empty() => {
            for (k, child) in map {
                walk(format!("{path}.{k}"), child, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, child) in items.iter().enumerate() {
                walk(format!("{path}[{i}]"), child, out);
            }
        }
        _ => out.push((path, inline(v))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_read_as_yaml_flow_style() {
        assert_eq!(inline(&json!({"maxUnavailable": 1})), "{maxUnavailable: 1}");
        assert_eq!(
            inline(&json!({"minAvailable": "50%"})),
            "{minAvailable: 50%}"
        );
        assert_eq!(inline(&json!(["cpu", "memory"])), "[cpu, memory]");
        // Strings YAML would read as something else keep their quotes.
        assert_eq!(
            inline(&json!(["1", "true", "", "a b", "x: y"])),
            r#"["1", "true", "", "a b", "x: y"]"#
        );
        assert_eq!(inline(&json!(null)), "null");
        assert_eq!(inline(&json!({})), "{}");
    }

    #[test]
    fn a_change_is_one_leaf_per_line() {
        let v = json!({"maxReplicas": 8, "metrics": [{"type": "Resource",
            "resource": {"name": "cpu", "target": {"averageUtilization": 70}}}], "behavior": {}});
        assert_eq!(
            leaves("spec.a", &v),
            [
                ("spec.a.behavior".to_string(), "{}".to_string()),
                ("spec.a.maxReplicas".into(), "8".into()),
                ("spec.a.metrics[0].resource.name".into(), "cpu".into()),
                (
                    "spec.a.metrics[0].resource.target.averageUtilization".into(),
                    "70".into()
                ),
                ("spec.a.metrics[0].type".into(), "Resource".into()),
            ]
        );
        assert_eq!(
            leaves("spec.replicas", &json!(3)),
            [("spec.replicas".to_string(), "3".to_string())]
        );
    }
}
