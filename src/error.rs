//! The crate's one error type and its exit codes.
//!
//! Every failure a user can meet is an [`Error`]: a kind (which decides the exit code), a
//! message naming the object, field or flag, and a hint saying what to do next. `main` turns it
//! into text and an exit code in one place; nothing else prints errors or calls `exit`.

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
}

impl ErrorKind {
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Refused => 1,
            ErrorKind::Usage => 2,
            ErrorKind::Incomplete => 3,
        }
    }
}

/// A failure with what a person needs to act on it.
#[derive(Debug, thiserror::Error)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
    /// The command already reported the problem (a validation report, say): print nothing more.
    pub reported: bool,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error {
    fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
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

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn exit_code(&self) -> u8 {
        self.kind.exit_code()
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
    fn hint_is_kept_apart_from_the_message() {
        let e = Error::incomplete("featurestore \"a\" not found").with_hint("check the namespace");
        assert_eq!(e.to_string(), "featurestore \"a\" not found");
        assert_eq!(e.hint.as_deref(), Some("check the namespace"));
    }
}
