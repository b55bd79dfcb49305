//! Terminal text made safe to print: control characters that come from cluster data (a
//! condition's message, a pod's reason) or file data (a name, a path) are shown escaped (`\e`,
//! `\x07`), never sent raw, so that no object can retitle the terminal, clear the screen or
//! rewrite a line. Our own colours (SGR sequences, `ESC [ … m`) pass when colour is on.
//! JSON, YAML, SARIF and JUnit escape control characters themselves and do not come here.

use std::borrow::Cow;

/// `text` with every control character but newline and tab escaped; with `colors`, SGR
/// sequences (colour and style only) are kept.
pub fn safe(text: &str, colors: bool) -> Cow<'_, str> {
    let bad = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.contains(bad) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some((i, c)) = rest.char_indices().find(|(_, c)| bad(*c)) {
        out.push_str(&rest[..i]);
        let after = &rest[i + c.len_utf8()..];
        if colors
            && c == '\u{1b}'
            && let Some(len) = sgr_len(after)
        {
            out.push('\u{1b}');
            out.push_str(&after[..len]);
            rest = &after[len..];
            continue;
        }
        match c {
            '\u{1b}' => out.push_str("\\e"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
        rest = after;
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The length of an SGR sequence's body after its ESC (`[1;31m`), if that is what follows.
fn sgr_len(after: &str) -> Option<usize> {
    let body = after.strip_prefix('[')?;
    let params = body
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';')
        .count();
    (body.as_bytes().get(params) == Some(&b'm')).then_some(1 + params + 1)
}

/// The columns `text` takes on a terminal: its characters less ANSI colour sequences.
pub fn visible_width(text: &str) -> usize {
    let mut n = 0;
    let mut in_escape = false;
    for c in text.chars() {
        match (in_escape, c) {
            (false, '\u{1b}') => in_escape = true,
            (true, c) if c.is_ascii_alphabetic() => in_escape = false,
            (true, _) => {}
            (false, _) => n += 1,
        }
    }
    n
}

/// `text` cut at spaces into lines of at most `width` visible columns (a longer word stays
/// whole on its own line).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    if visible_width(text) <= width {
        return vec![text.to_string()];
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && visible_width(&line) + 1 + visible_width(word) > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

/// The terminal's width when stdout is one (the detail view wraps its long lines to it); None
/// when piped, so that text for grep and diff stays as it is.
pub fn stdout_width() -> Option<usize> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return None;
    }
    crossterm::terminal::size()
        .ok()
        .map(|(w, _)| usize::from(w))
        .filter(|w| *w >= 40)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_escaped() {
        let hostile = "msg\u{1b}]0;owned\u{07}\u{1b}[2J\rhidden\u{9b}x\ttab\nnext";
        assert_eq!(
            safe(hostile, false),
            "msg\\e]0;owned\\x07\\e[2J\\rhidden\\x9bx\ttab\nnext"
        );
        assert_eq!(safe(hostile, true), safe(hostile, false), "no SGR in it");
    }

    #[test]
    fn our_colours_pass_only_when_colour_is_on() {
        let red = "\u{1b}[1;31mCRITICAL\u{1b}[0m";
        assert_eq!(safe(red, true), red);
        assert_eq!(safe(red, false), "\\e[1;31mCRITICAL\\e[0m");
        assert!(matches!(safe("plain", true), Cow::Borrowed(_)));
    }

    #[test]
    fn lines_wrap_at_spaces_by_visible_width() {
        assert_eq!(super::visible_width("\u{1b}[31mred\u{1b}[0m"), 3);
        assert_eq!(super::wrap("a bb ccc", 4), ["a bb", "ccc"]);
        assert_eq!(super::wrap("short", 10), ["short"]);
        assert_eq!(super::wrap("averylongword b", 4), ["averylongword", "b"]);
        let coloured = "\u{1b}[31maaa bbb\u{1b}[0m";
        assert_eq!(super::wrap(coloured, 3).len(), 2);
    }
}
