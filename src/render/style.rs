//! Colour that is optional: every helper returns plain text when colour is off, and nothing
//! depends on colour alone (words such as ERROR and INVALID carry the meaning).

use owo_colors::OwoColorize;

use crate::rules::Severity;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
    /// The terminal's width in columns, when the output goes to one: long detail lines wrap
    /// under their value. None (piped): lines as they are, for grep and diff.
    pub width: Option<usize>,
}

impl Style {
    pub const PLAIN: Style = Style {
        color: false,
        width: None,
    };

    pub fn colored(color: bool) -> Style {
        Style { color, width: None }
    }

    pub fn red(self, s: &str) -> String {
        if self.color {
            s.red().to_string()
        } else {
            s.to_string()
        }
    }
    pub fn yellow(self, s: &str) -> String {
        if self.color {
            s.yellow().to_string()
        } else {
            s.to_string()
        }
    }
    pub fn green(self, s: &str) -> String {
        if self.color {
            s.green().to_string()
        } else {
            s.to_string()
        }
    }
    pub fn dim(self, s: &str) -> String {
        if self.color {
            s.dimmed().to_string()
        } else {
            s.to_string()
        }
    }
    pub fn bold(self, s: &str) -> String {
        if self.color {
            s.bold().to_string()
        } else {
            s.to_string()
        }
    }
    pub fn severity(self, sev: Severity, s: &str) -> String {
        match sev {
            Severity::Error => self.red(s),
            Severity::Warning => self.yellow(s),
            Severity::Info => self.dim(s),
        }
    }
}
