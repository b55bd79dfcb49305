//! "Did you mean …?": the names closest to one a user typed, for misspelt FeatureStore names,
//! flags and field names alike. Pure.

/// The Levenshtein distance between two strings, by characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Names that are close to `name` (a small edit away, or one containing the other), sorted.
pub fn similar_names(name: &str, candidates: &[String]) -> Vec<String> {
    let mut out: Vec<String> = candidates
        .iter()
        .filter(|c| {
            c.as_str() != name
                && (edit_distance(name, c) <= 2
                    || (name.len() >= 3 && (c.contains(name) || name.contains(c.as_str()))))
        })
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The one candidate nearest to `name`, if any is near enough to be a likely typo: at most a
/// third of the name's length in edits (at least 1, at most 3), ignoring case, or a prefix.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    let limit = (name.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .filter_map(|c| {
            let d = edit_distance(&lower, &c.to_ascii_lowercase());
            let prefix = lower.len() >= 3 && c.to_ascii_lowercase().starts_with(&lower);
            (d <= limit || prefix).then_some((d, c))
        })
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// A word as a POSIX shell reads it back unchanged: as it is when it holds only characters no
/// shell treats specially, else in single quotes (a `'` inside written as `'\''`).
pub fn shell_quote(word: &str) -> std::borrow::Cow<'_, str> {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:@/=,+%".contains(c));
    if plain {
        word.into()
    } else {
        format!("'{}'", word.replace('\'', "'\\''")).into()
    }
}

/// A hint's suggested commands (each between backticks) as the user must paste them to reach
/// the cluster they asked about: `--context X` after `kubectl feast` (kubectl refuses flags
/// before a plugin's name) or after `kubectl` for its own commands, the name shell-quoted.
/// Applied to a hint's value, before any output format renders it, so JSON, YAML, SARIF and
/// JUnit escape the result as they escape any text.
pub fn with_context<'a>(hint: &'a str, context: Option<&str>) -> std::borrow::Cow<'a, str> {
    let Some(context) = context.filter(|c| !c.is_empty()) else {
        // Unchanged, not copied: a report holds thousands of hints.
        return hint.into();
    };
    if !hint.contains("`kubectl ") {
        return hint.into();
    }
    let flag = format!("--context {}", shell_quote(context));
    let mut out = String::with_capacity(hint.len() + 16);
    let mut rest = hint;
    while let Some(i) = rest.find("`kubectl ") {
        out.push_str(&rest[..i]);
        let command = &rest[i + "`kubectl ".len()..];
        match command.strip_prefix("feast ") {
            Some(after) => {
                out.push_str("`kubectl feast ");
                out.push_str(&flag);
                out.push(' ');
                rest = after;
            }
            None => {
                out.push_str("`kubectl ");
                out.push_str(&flag);
                out.push(' ');
                rest = command;
            }
        }
    }
    out.push_str(rest);
    out.into()
}

/// A hint's change commands (`kubectl feast scale|autoscale|pdb ...`) for a store read from
/// `file`: they change the file (`--local -f FILE --in-place`), which is what works for a store
/// that lives in Git, rather than a cluster. Other commands are left as they are.
pub fn for_file<'a>(hint: &'a str, file: &str) -> std::borrow::Cow<'a, str> {
    const CHANGES: [&str; 3] = [
        "`kubectl feast scale ",
        "`kubectl feast autoscale ",
        "`kubectl feast pdb ",
    ];
    if !CHANGES.iter().any(|c| hint.contains(c)) {
        return hint.into();
    }
    let flags = format!(" --local -f {} --in-place", shell_quote(file));
    let mut out = String::with_capacity(hint.len() + flags.len());
    let mut rest = hint;
    while let Some(start) = CHANGES.iter().filter_map(|c| rest.find(c)).min() {
        // The command runs to its closing backtick.
        let Some(len) = rest[start + 1..].find('`') else {
            break;
        };
        let end = start + 1 + len;
        out.push_str(&rest[..end]);
        out.push_str(&flags);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_hints_change_the_file_and_leave_other_commands() {
        let hint = "Scale it (`kubectl feast scale a --replicas 2`), look (`kubectl feast status a`), or `kubectl feast pdb a --off`.";
        assert_eq!(
            for_file(hint, "my dir/a.yaml"),
            "Scale it (`kubectl feast scale a --replicas 2 --local -f 'my dir/a.yaml' --in-place`), look (`kubectl feast status a`), or `kubectl feast pdb a --off --local -f 'my dir/a.yaml' --in-place`."
        );
        assert!(matches!(
            for_file("no command", "a.yaml"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn similar_names_catch_typos_and_prefixes() {
        let names: Vec<String> = ["my-feast", "my-feast-prod", "other"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(similar_names("my-faest", &names), vec!["my-feast"]);
        assert_eq!(
            similar_names("feast", &names),
            vec!["my-feast", "my-feast-prod"]
        );
        assert!(similar_names("zzz", &names).is_empty());
    }

    #[test]
    fn nearest_field_names() {
        let fields = ["replicas", "services", "feastProject"];
        assert_eq!(nearest("replica", fields), Some("replicas"));
        assert_eq!(nearest("Replicas", fields), Some("replicas"));
        assert_eq!(nearest("servics", fields), Some("services"));
        assert_eq!(nearest("feast", fields), Some("feastProject"));
        assert_eq!(nearest("zz", fields), None);
        assert_eq!(nearest("autoscale", ["autoscaling"]), Some("autoscaling"));
        assert_eq!(
            nearest(
                "podDisruptionBudget",
                ["podDisruptionBudgets", "podAnnotations"]
            ),
            Some("podDisruptionBudgets")
        );
    }

    #[test]
    fn suggested_commands_carry_the_context_after_the_plugin_name() {
        let hint = "Use `kubectl feast pdb a -n ns --off` or `kubectl get pods -n ns`.";
        assert_eq!(
            with_context(hint, Some("prod-eu")),
            "Use `kubectl feast --context prod-eu pdb a -n ns --off` or `kubectl --context prod-eu get pods -n ns`."
        );
        assert_eq!(with_context(hint, None), hint);
        assert!(with_context("`kubectl x`", Some("a b")).contains("--context 'a b' x"));
        assert_eq!(
            with_context("`kubectl feast status`", Some("it's")),
            "`kubectl feast --context 'it'\\''s' status`"
        );
    }

    #[test]
    fn shell_quoting_keeps_plain_words_and_quotes_the_rest() {
        assert_eq!(shell_quote("prod-eu_1.a:b@c/d"), "prod-eu_1.a:b@c/d");
        for (word, quoted) in [
            ("a b", "'a b'"),
            ("", "''"),
            ("x;rm", "'x;rm'"),
            ("a\"b", "'a\"b'"),
        ] {
            assert_eq!(shell_quote(word), quoted);
        }
    }
}
