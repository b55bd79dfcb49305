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

/// Parses `text` when it is one JSON value, else `None` (read it as YAML instead). A large
/// `kind: List` has its items read on every core ([`Parser::split_items`]); if that fails for
/// any reason, the text is read again in one piece, so cutting never changes the outcome.
pub(super) fn parse(text: &str) -> Option<Parsed> {
    let parts = crate::parallel::threads().min(text.len() / super::PARALLEL_MIN_BYTES);
    if parts >= 2
        && let Some(parsed) = parse_in(text, parts)
    {
        return Some(parsed);
    }
    parse_in(text, 1)
}

/// [`parse`], with the root `items` array cut into at most `parts` parts.
fn parse_in(text: &str, parts: usize) -> Option<Parsed> {
    let mut p = Parser::new(text.as_bytes(), 0, parts);
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

/// The items of one part of a root `items` array, with their lines.
struct Chunk {
    items: Vec<Value>,
    lines: Lines,
    /// Where the reading stopped: the array's closing `]` for the last part.
    end: usize,
    /// The line of `end`.
    line: usize,
}

/// Reads the items of a root `items` array from `start`, an item's first byte on line
/// `line`: values separated by commas, up to `end` (just after a comma and the blanks that
/// follow it), or for the last part up to the array's closing `]`. Anything else, an item
/// that runs past `end` above all, is a failure: the cut was not between two items.
fn read_chunk(bytes: &[u8], start: usize, end: usize, line: usize, depth: usize) -> Option<Chunk> {
    let last = end == bytes.len();
    let mut p = Parser::new(&bytes[..end], line - 1, 1);
    p.pos = start;
    let mut items = Vec::new();
    loop {
        let saved = p.rec.enter_item(items.len(), p.line);
        let value = p.value(depth);
        p.rec.leave_item(saved);
        items.push(value?);
        p.skip_ws();
        match p.peek() {
            Some(b',') => {
                p.pos += 1;
                p.skip_ws();
                if !last && p.pos == end {
                    break;
                }
            }
            Some(b']') if last => break,
            _ => return None,
        }
    }
    let line = p.line + p.rec.base();
    Some(Chunk {
        items,
        lines: p.rec.finish(),
        end: p.pos,
        line,
    })
}

/// Where to cut the items of a root `items` array into at most `parts` parts: byte offsets
/// of item starts, ascending, after `first` (the first item's start). A cut is made where
/// pretty-printed JSON (`kubectl get -o json`) starts an item: a line of exactly the first
/// item's indentation and `{`, after a line that ends with a comma. JSON strings hold no line
/// breaks, so a cut is never inside one; one inside an item makes its part fail to read.
fn item_cuts(bytes: &[u8], first: usize, parts: usize) -> Vec<usize> {
    let line_start = bytes[..first]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let indent = &bytes[line_start..first];
    let mut cuts = Vec::new();
    if bytes.get(first) != Some(&b'{') || indent.iter().any(|&b| b != b' ') {
        return cuts;
    }
    let span = bytes.len() - first;
    let mut from = first + 1;
    for k in 1..parts {
        let mut at = from.max(first + span / parts * k);
        while let Some(nl) = bytes[at..].iter().position(|&b| b == b'\n') {
            let start = at + nl + 1;
            at = start;
            let item = start + indent.len();
            if bytes.get(start..item) == Some(indent)
                && bytes.get(item) == Some(&b'{')
                && bytes[..start]
                    .iter()
                    .rev()
                    .find(|b| !b.is_ascii_whitespace())
                    == Some(&b',')
            {
                cuts.push(item);
                from = item + 1;
                break;
            }
        }
    }
    cuts
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// The 1-based line of `pos`, counted from the start of `bytes` plus the recorder's base.
    line: usize,
    rec: Recorder,
    /// The most parts to cut the root `items` array into (1: read it in one piece).
    parts: usize,
}

impl<'a> Parser<'a> {
    /// A parser at the start of `bytes`, whose first line is line `base + 1` of the input.
    fn new(bytes: &'a [u8], base: usize, parts: usize) -> Self {
        Parser {
            bytes,
            pos: 0,
            line: 1,
            rec: Recorder::after_lines(base),
            parts,
        }
    }

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
                match self.parts {
                    1 => self.array(depth + 1, true),
                    _ => self.split_items(depth + 1),
                }
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

    /// The root `items` array (at `[`), its items cut into parts ([`item_cuts`]) read on as
    /// many threads, in order; without a cut, as [`Self::array`] reads it.
    fn split_items(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        let open = (self.pos, self.line);
        self.pos += 1;
        self.skip_ws();
        let first = self.pos;
        let cuts = item_cuts(self.bytes, first, self.parts);
        if cuts.is_empty() {
            (self.pos, self.line) = open;
            return self.array(depth, true);
        }
        // Each part's first line: the line breaks before it, counted once.
        let mut starts = vec![(first, self.line)];
        for &cut in &cuts {
            let &(from, line) = starts.last()?;
            starts.push((cut, line + super::lines_in(&self.bytes[from..cut])));
        }
        let bytes = self.bytes;
        let ends: Vec<usize> = cuts.iter().copied().chain([bytes.len()]).collect();
        let chunks: Vec<Option<Chunk>> = std::thread::scope(|scope| {
            let handles: Vec<_> = starts[1..]
                .iter()
                .zip(&ends[1..])
                .map(|(&(start, line), &end)| {
                    std::thread::Builder::new()
                        .stack_size(super::PARSER_STACK_BYTES)
                        .spawn_scoped(scope, move || read_chunk(bytes, start, end, line, depth))
                })
                .collect();
            let head = read_chunk(bytes, first, ends[0], self.line, depth);
            std::iter::once(head)
                .chain(handles.into_iter().map(|h| match h.map(|h| h.join()) {
                    Ok(Ok(chunk)) => chunk,
                    _ => None,
                }))
                .collect()
        });
        let mut items = Vec::new();
        let mut end = (first, self.line);
        for chunk in chunks {
            let chunk = chunk?;
            items.extend(chunk.items);
            self.rec.add_items(chunk.lines);
            end = (chunk.end, chunk.line);
        }
        // The last part stopped at the closing `]`.
        (self.pos, self.line) = end;
        self.pos += 1;
        Some(Value::Array(items))
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

    /// A List as `kubectl get -o json` prints it, with items that hold what a cut must not
    /// be fooled by: strings with brackets and commas, nested objects and arrays.
    fn kubectl_list(count: usize) -> String {
        let items: Vec<Value> = (0..count)
            .map(|i| {
                json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
                       "metadata": {"name": format!("s{i}"), "annotations": {"a": "},\n    {"}},
                       "spec": {"replicas": i, "services": {"env": [{"name": "A"}, {"name": "B"}], "x": {}}}})
            })
            .collect();
        let list = json!({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {}});
        serde_json::to_string_pretty(&list).expect("JSON")
    }

    fn same(cut: &Parsed, whole: &Parsed, what: &str) {
        assert_eq!(cut.value, whole.value, "{what}");
        assert_eq!(cut.line, whole.line, "{what}");
        assert_eq!(cut.lines, whole.lines, "{what}");
    }

    #[test]
    fn a_list_read_in_parts_is_the_list_read_whole() {
        for count in [1, 2, 3, 10, 57] {
            let text = kubectl_list(count);
            let whole = parse_in(&text, 1).expect("JSON");
            for parts in [2, 3, 8, 100] {
                let cut = parse_in(&text, parts).expect("JSON");
                same(&cut, &whole, &format!("{count} items in {parts} parts"));
            }
        }
        let text = kubectl_list(57);
        let parsed = parse_in(&text, 4).expect("JSON");
        let items = parsed.value["items"].as_array().expect("items");
        assert_eq!(items[56]["spec"]["replicas"], json!(56));
        let line = text
            .lines()
            .position(|l| l.contains("\"s56\""))
            .expect("s56")
            + 1;
        assert_eq!(parsed.lines.get("items.56.metadata.name"), Some(line));
    }

    #[test]
    fn item_cuts_fall_on_item_starts_only() {
        let text = kubectl_list(40);
        let first = text.find("\n    {").expect("an item") + 5;
        let cuts = item_cuts(text.as_bytes(), first, 4);
        assert_eq!(cuts.len(), 3, "{cuts:?}");
        for &cut in &cuts {
            assert_eq!(&text[cut - 5..cut + 1], "\n    {", "{cut}");
            assert!(text[..cut].trim_end().ends_with(','));
        }
        assert!(cuts.windows(2).all(|w| w[0] < w[1]));
        // Compact JSON has no lines to cut at; neither have items that are not objects.
        let compact = serde_json::to_string(&serde_json::from_str::<Value>(&text).expect("JSON"))
            .expect("JSON");
        assert!(
            item_cuts(
                compact.as_bytes(),
                compact.find("[{").expect("items") + 1,
                4
            )
            .is_empty()
        );
        let numbers = "{\n \"items\": [\n  1,\n  2,\n  3\n ]\n}";
        assert!(item_cuts(numbers.as_bytes(), numbers.find('1').expect("1"), 2).is_empty());
    }

    #[test]
    fn a_cut_inside_an_item_or_bad_json_falls_back_to_the_whole_text() {
        // An item whose nested objects sit at the items' indentation: the cuts land inside
        // it, the parts fail, and the whole text is read in one piece.
        let tricky = "{\"items\": [\n  {\"a\": [1,\n  {\"b\": 2},\n  {\"c\": 3}]},\n  {\"d\": 4},\n  {\"e\": [5,\n  {\"f\": 6}]}\n]}";
        let whole = parse_in(tricky, 1).expect("JSON");
        assert!(
            parse_in(tricky, 3).is_none(),
            "a cut inside an item must fail"
        );
        assert_eq!(whole.value["items"].as_array().map(Vec::len), Some(3));
        // A syntax error in a later part, a duplicate key, a trailing comma: no parse at all.
        let text = kubectl_list(20);
        for broken in [
            text.replacen("\"s15\"", "\"s15\",", 1),
            text.replacen("\"replicas\": 18", "\"replicas\": 18, \"replicas\": 1", 1),
            text.replacen("\n  ],\n  \"kind\"", ",\n  ],\n  \"kind\"", 1),
        ] {
            assert!(broken != text, "the test must break the text");
            assert!(parse_in(&broken, 1).is_none());
            assert!(parse_in(&broken, 4).is_none());
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
