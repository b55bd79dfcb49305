//! The crate's one error type and its exit codes.
//!
//! Every failure a user can meet is an [`Error`]: a kind (which decides the exit code), a
//! message naming the object, field or flag, hints saying what to do next, and the underlying
//! error it came from (kept as its [`source`](std::error::Error::source), so the real cause of
//! a transport failure can be found by walking the chain). A command that fails on several
//! objects returns one error carrying the others. `main` alone turns it into text and an exit
//! code; nothing else prints errors or calls `exit`.

use std::fmt;

/// Why a command failed; each kind has one documented exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The objects are invalid or the change was refused: validation errors, a pre-flight
    /// refusal, or the API server rejecting the change (exit 1).
    Refused,
    /// Bad usage that clap could not catch on its own, such as flags that contradict each
    /// other (exit 2, the same code clap uses).
    Usage,
    /// The command could not complete: unreadable input, cluster unreachable, not found,
    /// forbidden, or any other API error (exit 3).
    Incomplete,
    /// Over several clusters: some answered and are shown, some failed, each failure named
    /// with its context (exit 4).
    Partial,
}

impl ErrorKind {
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Refused => 1,
            ErrorKind::Usage => 2,
            ErrorKind::Incomplete => 3,
            ErrorKind::Partial => 4,
        }
    }
}

/// The error an [`Error`] came from.
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A failure with what a person needs to act on it.
#[derive(Debug)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// What to do next, most useful first.
    pub hints: Vec<crate::hint::Hint>,
    /// The error this one came from, if any.
    pub source: Option<Source>,
    /// Further failures of the same command (one per store), reported after this one.
    pub more: Vec<Error>,
    /// The command already reported the problem (a validation report, say): print nothing more.
    pub reported: bool,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl Error {
    fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: crate::redact::text(&message.into()).into_owned(),
            hints: Vec::new(),
            source: None,
            more: Vec::new(),
            reported: false,
        }
    }

    pub fn refused(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Refused, message)
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }

    pub fn incomplete(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Incomplete, message)
    }

    /// The outcome was already printed (for example a report listing every invalid object);
    /// only the exit code is left to give.
    pub fn already_reported(kind: ErrorKind) -> Self {
        Error {
            reported: true,
            ..Self::new(kind, "")
        }
    }

    /// Several failures of one command as one error: the first, carrying the others. Its exit
    /// code is the worst of them all (see [`Error::exit_code`]).
    ///
    /// # Panics
    /// Never: an empty list gives an `Incomplete` error saying so.
    pub fn combine(failures: Vec<Error>) -> Self {
        let mut failures = failures.into_iter();
        match failures.next() {
            Some(mut first) => {
                first.more.extend(failures);
                first
            }
            None => Error::incomplete("the command failed without saying why"),
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hints
            .push(crate::redact::text(&hint.into()).into_owned().into());
        self
    }

    /// Hints carried over from another error (redacted when that one was made).
    pub fn with_hints(mut self, hints: impl IntoIterator<Item = crate::hint::Hint>) -> Self {
        self.hints.extend(hints);
        self
    }

    pub fn with_source(mut self, source: impl Into<Source>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The first hint, as text, if any.
    pub fn hint(&self) -> Option<String> {
        self.hints.first().map(ToString::to_string)
    }

    /// The worst exit code of this error and the ones it carries: 3 when anything could not
    /// be completed (its state may need a look), else 1 for a refusal, 2 for bad usage.
    pub fn exit_code(&self) -> u8 {
        self.all()
            .map(|e| e.kind.exit_code())
            .max_by_key(|code| match code {
                3 => 4,
                4 => 3,
                1 => 2,
                _ => 1,
            })
            .unwrap_or(3)
    }

    /// This error and the ones it carries, in order.
    pub fn all(&self) -> impl Iterator<Item = &Error> {
        std::iter::once(self).chain(self.more.iter())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_maps_to_its_documented_exit_code() {
        assert_eq!(Error::refused("x").exit_code(), 1);
        assert_eq!(Error::usage("x").exit_code(), 2);
        assert_eq!(Error::incomplete("x").exit_code(), 3);
    }

    #[test]
    fn hints_are_kept_apart_from_the_message() {
        let e = Error::incomplete("featurestore \"a\" not found")
            .with_hint("check the namespace")
            .with_hint("or the context");
        assert_eq!(e.to_string(), "featurestore \"a\" not found");
        assert_eq!(e.hint().as_deref(), Some("check the namespace"));
        assert_eq!(e.hints.len(), 2);
    }

    #[test]
    fn the_source_is_kept_for_the_cause_chain() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let e = Error::incomplete("cannot list").with_source(io);
        let source = std::error::Error::source(&e).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("refused"));
    }

    #[test]
    fn combined_failures_keep_every_one_and_the_first_exit_code() {
        let e = Error::combine(vec![
            Error::refused("a"),
            Error::incomplete("b"),
            Error::incomplete("c"),
        ]);
        assert_eq!(
            e.exit_code(),
            3,
            "the worst outcome: one could not complete"
        );
        let messages: Vec<&str> = e.all().map(|e| e.message.as_str()).collect();
        assert_eq!(messages, ["a", "b", "c"]);
    }
}
