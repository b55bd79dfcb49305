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

#[cfg(test)]
mod tests {
    use super::*;

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
