//! The JSON fast path: `kubectl get -o json` output parsed straight into `serde_json::Value`,
//! with the line of every field, about twenty times faster than the YAML parser reads the same
//! text (docs/performance.md). It accepts exactly one JSON value (RFC 8259) and gives up on
//! anything else (a syntax error, a duplicate key, nesting deeper than `MAX_DEPTH`, an integer
//! beyond 64 bits): the caller then reads the text as YAML, which has the error messages and
//! the YAML rules for such input. So the fast path never changes what a text means, only how
//! quickly it is read.

use serde_json::{Map, Number, Value};

use super::MAX_DEPTH;
use super::lines::{Index, Lines, Recorder};

/// One JSON document: the line its value starts on, the value, and field path → line, as
/// the YAML path records them (a key's line for a mapping entry, the value's first line for a
/// sequence item).
pub(super) struct Parsed {
    pub line: usize,
    pub value: Value,
    pub lines: Lines,
}

/// Parses `text` when it is one JSON value, else `None` (read it as YAML instead).
pub(super) fn parse(text: &str) -> Option<Parsed> {
    let mut p = Parser {
        bytes: text.as_bytes(),
        pos: 0,
        line: 1,
        rec: Recorder::default(),
    };
    p.skip_ws();
    let line = p.line;
    let value = p.value(0)?;
    p.skip_ws();
    if p.pos != p.bytes.len() {
        return None;
    }
    Some(Parsed {
        line,
        value,
        lines: p.rec.finish(),
    })
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// The 1-based line of `pos`.
    line: usize,
    rec: Recorder,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => return,
            }
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, literal: &[u8]) -> Option<()> {
        let end = self.pos + literal.len();
        (self.bytes.get(self.pos..end)? == literal).then(|| self.pos = end)
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        match self.peek()? {
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1, false),
            b'"' => self.string().map(Value::String),
            b't' => self.eat(b"true").map(|()| Value::Bool(true)),
            b'f' => self.eat(b"false").map(|()| Value::Bool(false)),
            b'n' => self.eat(b"null").map(|()| Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn object(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        let mut map = Map::new();
        self.skip_ws();
        if self.peek()? == b'}' {
            self.pos += 1;
            return Some(Value::Object(map));
        }
        loop {
            self.skip_ws();
            if self.peek()? != b'"' {
                return None;
            }
            let key_line = self.line;
            let key = self.string()?;
            self.skip_ws();
            self.eat(b":")?;
            self.skip_ws();
            let mark = self.rec.enter(&key);
            self.rec.record(key_line);
            let value = if self.rec.at_root_items() && self.peek() == Some(b'[') {
                self.array(depth + 1, true)
            } else {
                self.value(depth)
            };
            self.rec.leave(mark);
            // YAML (and so the slow path) refuses a duplicate key; JSON parsers disagree.
            if map.insert(key, value?).is_some() {
                return None;
            }
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Some(Value::Object(map));
                }
                _ => return None,
            }
        }
    }

    /// An array; `root_items` for the root's `items`, whose elements keep their own lines.
    fn array(&mut self, depth: usize, root_items: bool) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek()? == b']' {
            self.pos += 1;
            return Some(Value::Array(items));
        }
        let mut index = Index::default();
        loop {
            self.skip_ws();
            let value = if root_items {
                let saved = self.rec.enter_item(items.len(), self.line);
                let value = self.value(depth);
                self.rec.leave_item(saved);
                value
            } else {
                let mark = self.rec.enter(index.format(items.len()));
                self.rec.record(self.line);
                let value = self.value(depth);
                self.rec.leave(mark);
                value
            };
            items.push(value?);
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Some(Value::Array(items));
                }
                _ => return None,
            }
        }
    }

    /// A string at `pos` (the opening quote), unescaped.
    fn string(&mut self) -> Option<String> {
        self.pos += 1;
        let start = self.pos;
        // The common case: no escape, so the text is a slice of the input.
        loop {
            match *self.bytes.get(self.pos)? {
                b'"' => {
                    let s = std::str::from_utf8(&self.bytes[start..self.pos]).ok()?;
                    self.pos += 1;
                    return Some(s.to_string());
                }
                b'\\' => break,
                // Control characters must be escaped in JSON (and a raw newline would make
                // the line count wrong).
                0..=0x1f => return None,
                _ => self.pos += 1,
            }
        }
        let mut out: Vec<u8> = self.bytes[start..self.pos].to_vec();
        loop {
            match *self.bytes.get(self.pos)? {
                b'"' => {
                    self.pos += 1;
                    return String::from_utf8(out).ok();
                }
                b'\\' => {
                    let esc = *self.bytes.get(self.pos + 1)?;
                    self.pos += 2;
                    let c = match esc {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return None,
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                0..=0x1f => return None,
                b => {
                    out.push(b);
                    self.pos += 1;
                }
            }
        }
    }

    /// The character of a `\uXXXX` escape (its `\u` already read), with a surrogate pair's
    /// second half.
    fn unicode_escape(&mut self) -> Option<char> {
        let first = self.hex4()?;
        if (0xd800..0xdc00).contains(&first) {
            self.eat(b"\\u")?;
            let second = self.hex4()?;
            if !(0xdc00..0xe000).contains(&second) {
                return None;
            }
            char::from_u32(0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00))
        } else {
            char::from_u32(first)
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = std::str::from_utf8(self.bytes.get(self.pos..self.pos + 4)?).ok()?;
        self.pos += 4;
        u32::from_str_radix(digits, 16).ok()
    }

    /// A number as RFC 8259 spells it: integers that fit 64 bits stay integers, the rest are
    /// floats; an integer beyond 64 bits gives up (YAML and JSON parsers differ there).
    fn number(&mut self) -> Option<Value> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let from = p.pos;
            while p.peek().is_some_and(|b| b.is_ascii_digit()) {
                p.pos += 1;
            }
            p.pos > from
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        // No leading zeros: `0` alone, or a non-zero digit first.
        if self.peek() == Some(b'0') {
            self.pos += 1;
        } else if !digits(self) {
            return None;
        }
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            float = true;
            if !digits(self) {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            float = true;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !digits(self) {
                return None;
            }
        }
        let text = std::str::from_utf8(&self.bytes[start..self.pos]).ok()?;
        if float {
            let f: f64 = text.parse().ok()?;
            return Number::from_f64(f).map(Value::Number);
        }
        if let Ok(i) = text.parse::<i64>() {
            Some(Value::from(i))
        } else {
            text.parse::<u64>().ok().map(Value::from)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_and_lines() {
        let text = "{\n  \"kind\": \"List\",\n  \"items\": [\n    {\n      \"a\": [1, -2.5e1, true, null],\n      \"b\": \"x\\u00e9\\ud83d\\ude00\\n\"\n    }\n  ]\n}\n";
        let p = parse(text).expect("JSON");
        assert_eq!(
            p.value,
            json!({"kind": "List", "items": [{"a": [1, -25.0, true, null], "b": "xé😀\n"}]})
        );
        assert_eq!(p.line, 1);
        for (path, line) in [
            ("kind", 2),
            ("items", 3),
            ("items.0", 4),
            ("items.0.a", 5),
            ("items.0.a.3", 5),
            ("items.0.b", 6),
        ] {
            assert_eq!(p.lines.get(path), Some(line), "{path}");
        }
    }

    #[test]
    fn numbers_keep_their_kind() {
        let p =
            parse("[0, -0, 9223372036854775807, 18446744073709551615, 1.5, 1E2]").expect("JSON");
        assert_eq!(p.value[2], json!(i64::MAX));
        assert_eq!(p.value[3], json!(u64::MAX));
        assert!(p.value[4].is_f64() && p.value[5].is_f64());
    }

    #[test]
    fn anything_but_one_plain_json_value_is_left_to_the_yaml_parser() {
        for text in [
            "",
            "{} {}",
            "{\"a\": 1,}",
            "{\"a\": 1, \"a\": 2}",
            "[01]",
            "[1.]",
            "[18446744073709551616]",
            "{'a': 1}",
            "{\"a\": \"tab\there\"}",
            "{\"a\": \"\\x\"}",
            "{\"a\": \"\\ud800\"}",
            "a: 1",
            "[NaN]",
        ] {
            assert!(parse(text).is_none(), "{text:?}");
        }
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(parse(&deep).is_none());
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_some());
    }
}
