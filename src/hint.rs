//! Advice as values: a sentence and the commands it suggests, each command held as the words
//! kubectl takes (`feast scale NAME --replicas 2`), not as text.
//!
//! Where the commands must reach (the `--context` of the cluster asked about, or the file a
//! store was read from) is set on the commands themselves; each output renders the hint once:
//! text with every flag after the plugin's name (kubectl refuses flags before it), JSON, YAML,
//! SARIF and JUnit escaping the same rendering as any string. Nothing rewrites rendered text.
//!
//! A hint is written as a sentence with its commands between backticks; the backticked spans
//! that start with `kubectl ` become [`Command`]s when the hint is made. Pure.

use std::fmt;

use crate::suggest::shell_quote;

/// A sentence with the commands it suggests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hint(Vec<Piece>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Command(Command),
}

/// One suggested command: kubectl's words, and where it must reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The words after `kubectl`; a plugin command starts with `feast`.
    words: Vec<String>,
    /// The kubeconfig context the command must carry.
    context: Option<String>,
    /// The manifest a change command edits in place of a cluster.
    file: Option<String>,
}

/// `feast` subcommands that change a store, and so can edit a file in place instead.
const CHANGES: [&str; 4] = ["scale", "autoscale", "pdb", "persistence"];

impl Command {
    /// `kubectl WORDS...`.
    pub fn kubectl<I, S>(words: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Command {
            words: words.into_iter().map(Into::into).collect(),
            context: None,
            file: None,
        }
    }

    /// `kubectl feast WORDS...`.
    pub fn feast<I, S>(words: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut c = Command::kubectl(["feast"]);
        c.words.extend(words.into_iter().map(Into::into));
        c
    }

    fn is_plugin(&self) -> bool {
        self.words.first().is_some_and(|w| w == "feast")
    }

    fn is_change(&self) -> bool {
        self.is_plugin()
            && self
                .words
                .get(1)
                .is_some_and(|w| CHANGES.contains(&w.as_str()))
    }

    /// The words as a program runs them: `kubectl`, the plugin's name where there is one, the
    /// context, the rest, then the file flags of a change made to a file.
    pub fn argv(&self) -> Vec<String> {
        let mut out = vec!["kubectl".to_string()];
        let mut rest = self.words.iter();
        if self.is_plugin() {
            out.extend(rest.next().cloned());
        }
        if let Some(context) = &self.context {
            out.extend(["--context".to_string(), context.clone()]);
        }
        out.extend(rest.cloned());
        if let Some(file) = self.file.as_ref().filter(|_| self.is_change()) {
            out.extend(["--local", "-f"].map(String::from));
            out.push(file.clone());
            out.push("--in-place".into());
        }
        out
    }
}

impl fmt::Display for Command {
    /// The command as a POSIX shell reads it back: each word quoted where it must be.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, word) in self.argv().iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(&shell_quote(word))?;
        }
        Ok(())
    }
}

impl Hint {
    /// A hint from its sentence: each backticked span that starts with `kubectl ` and splits
    /// into words as a shell splits it becomes a [`Command`]; the rest stays text.
    pub fn new(text: impl Into<String>) -> Hint {
        let text = text.into();
        if !text.contains("`kubectl ") {
            // Most hints: no command, no copy.
            return Hint(vec![Piece::Text(text)]);
        }
        let mut pieces = Vec::new();
        let mut plain = String::new();
        let mut rest = text.as_str();
        while let Some(start) = rest.find("`kubectl ") {
            let after = &rest[start + 1..];
            let Some(len) = after.find('`') else {
                break;
            };
            let words = shell_words::split(&after[..len]).ok();
            match words.filter(|w| w.len() > 1) {
                Some(words) => {
                    plain.push_str(&rest[..start]);
                    if !plain.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut plain)));
                    }
                    pieces.push(Piece::Command(Command::kubectl(words.into_iter().skip(1))));
                }
                None => plain.push_str(&rest[..start + 2 + len]),
            }
            rest = &after[len + 1..];
        }
        plain.push_str(rest);
        if !plain.is_empty() {
            pieces.push(Piece::Text(plain));
        }
        Hint(pieces)
    }

    /// Builds a hint piece by piece: text, then a command, then text...
    pub fn text(mut self, text: impl Into<String>) -> Hint {
        self.0.push(Piece::Text(text.into()));
        self
    }

    /// Appends a command, shown between backticks.
    pub fn command(mut self, command: Command) -> Hint {
        self.0.push(Piece::Command(command));
        self
    }

    /// Whether its text, as shown, contains `needle`.
    pub fn contains(&self, needle: &str) -> bool {
        self.to_string().contains(needle)
    }

    pub fn is_empty(&self) -> bool {
        self.0
            .iter()
            .all(|p| matches!(p, Piece::Text(t) if t.is_empty()))
    }

    fn commands_mut(&mut self) -> impl Iterator<Item = &mut Command> {
        self.0.iter_mut().filter_map(|p| match p {
            Piece::Command(c) => Some(c),
            Piece::Text(_) => None,
        })
    }

    /// The commands it suggests.
    pub fn commands(&self) -> impl Iterator<Item = &Command> {
        self.0.iter().filter_map(|p| match p {
            Piece::Command(c) => Some(c),
            Piece::Text(_) => None,
        })
    }

    /// Its commands reach the cluster of `context` (none, or an empty name: the current one).
    pub fn set_context(&mut self, context: Option<&str>) {
        let context = context.filter(|c| !c.is_empty());
        for c in self.commands_mut() {
            c.context = context.map(str::to_string);
        }
    }

    /// Its change commands (`scale`, `autoscale`, `pdb`) edit `file` in place, which is what
    /// works for a store that lives in Git; its other commands are left as they are.
    pub fn set_file(&mut self, file: &str) {
        for c in self.commands_mut() {
            c.file = Some(file.to_string());
        }
    }

    /// With its commands reaching `context`.
    pub fn in_context(mut self, context: Option<&str>) -> Hint {
        self.set_context(context);
        self
    }
}

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for piece in &self.0 {
            match piece {
                Piece::Text(t) => f.write_str(t)?,
                Piece::Command(c) => write!(f, "`{c}`")?,
            }
        }
        Ok(())
    }
}

impl From<String> for Hint {
    fn from(text: String) -> Hint {
        Hint::new(text)
    }
}

impl From<&str> for Hint {
    fn from(text: &str) -> Hint {
        Hint::new(text)
    }
}

impl From<&String> for Hint {
    fn from(text: &String) -> Hint {
        Hint::new(text.as_str())
    }
}

impl From<Command> for Hint {
    fn from(command: Command) -> Hint {
        Hint::default().command(command)
    }
}

impl PartialEq<str> for Hint {
    fn eq(&self, other: &str) -> bool {
        self.to_string().as_str() == other
    }
}

impl PartialEq<&str> for Hint {
    fn eq(&self, other: &&str) -> bool {
        self.to_string().as_str() == *other
    }
}

/// Every output format carries a hint as the one string text shows, escaped by its format.
impl serde::Serialize for Hint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_carry_the_context_after_the_plugin_name() {
        let hint = Hint::new("Use `kubectl feast pdb a -n ns --off` or `kubectl get pods -n ns`.")
            .in_context(Some("prod-eu"));
        assert_eq!(
            hint,
            "Use `kubectl feast --context prod-eu pdb a -n ns --off` or `kubectl --context prod-eu get pods -n ns`."
        );
        let argv: Vec<_> = hint.commands().map(Command::argv).collect();
        assert_eq!(
            argv[0],
            [
                "kubectl",
                "feast",
                "--context",
                "prod-eu",
                "pdb",
                "a",
                "-n",
                "ns",
                "--off"
            ]
        );
        assert_eq!(
            Hint::new("`kubectl feast status`").in_context(Some("it's")),
            "`kubectl feast --context 'it'\\''s' status`"
        );
        assert_eq!(
            Hint::new("`kubectl x`").in_context(Some("a b")),
            "`kubectl --context 'a b' x`"
        );
        // No context, or an empty one: as written.
        let plain = "Use `kubectl feast pdb a --off`.";
        assert_eq!(Hint::new(plain).in_context(None), plain);
        assert_eq!(Hint::new(plain).in_context(Some("")), plain);
    }

    #[test]
    fn a_context_holding_quotes_stays_valid_json() {
        let hint = Hint::new("run `kubectl feast status a`").in_context(Some(r#"a"b'c"#));
        let json = serde_json::to_string(&serde_json::json!({ "hint": hint })).unwrap();
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        let text = back["hint"].as_str().unwrap();
        assert_eq!(text, r#"run `kubectl feast --context 'a"b'\''c' status a`"#);
        // The shell reads the command back to the same words.
        let inner = text.trim_start_matches("run `").trim_end_matches('`');
        assert_eq!(
            shell_words::split(inner).unwrap(),
            ["kubectl", "feast", "--context", r#"a"b'c"#, "status", "a"]
        );
    }

    #[test]
    fn file_hints_change_the_file_and_leave_other_commands() {
        let mut hint = Hint::new(
            "Scale it (`kubectl feast scale a --replicas 2`), look (`kubectl feast status a`), or `kubectl feast pdb a --off`.",
        );
        hint.set_file("my dir/a.yaml");
        assert_eq!(
            hint,
            "Scale it (`kubectl feast scale a --replicas 2 --local -f 'my dir/a.yaml' --in-place`), look (`kubectl feast status a`), or `kubectl feast pdb a --off --local -f 'my dir/a.yaml' --in-place`."
        );
    }

    #[test]
    fn other_backticked_text_and_quoted_words_round_trip() {
        for text in [
            "no command at all",
            "set `spec.replicas` to 1",
            "an unclosed `kubectl feast status",
            "`kubectl patch featurestore a --type=json -p '[{\"op\":\"remove\",\"path\":\"/spec/replicas\"}]'`",
            "`kubectl label node NODE topology.kubernetes.io/zone=ZONE` then `kubectl feast status`.",
        ] {
            assert_eq!(Hint::new(text), text, "{text}");
        }
        let built = Hint::default().text("scale it: ").command(Command::feast([
            "scale",
            "a b",
            "--replicas",
            "2",
        ]));
        assert_eq!(built, "scale it: `kubectl feast scale 'a b' --replicas 2`");
        assert_eq!(Hint::new("`kubectl feast status`").commands().count(), 1);
        assert_eq!(Hint::new("`kubectl`").commands().count(), 0);
    }
}
