//! Files and stdin → documents, each with where it came from.
//!
//! Reads files, directories (recursively: `.yaml`, `.yml`, `.json`) and `-` for stdin;
//! splits multi-document YAML and `kind: List`; keeps the line of every field the YAML parser
//! reports, so a finding can point at `file:line`. Hostile input is bounded: file size, YAML
//! nesting depth, node count and alias expansion all have limits, and exceeding one is an
//! error that names the file and the limit, never a panic or a hang.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::{Budget, Options, Spanned};

use crate::error::{Error, Result};

mod json;
mod lines;
use lines::{Index, Lines, Recorder};

/// The most bytes read from one file or from stdin.
pub const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;
/// The deepest YAML nesting accepted; FeatureStores are far shallower.
pub const MAX_DEPTH: usize = 64;
/// The parsing thread's stack: ample for `MAX_DEPTH` levels in a debug build.
const PARSER_STACK_BYTES: usize = 64 * 1024 * 1024;

/// One object read from a manifest.
#[derive(Debug, Clone)]
pub struct Document {
    /// The file path, or `<stdin>`.
    pub source: String,
    /// The 1-based line where the object starts.
    pub line: usize,
    pub value: Value,
    /// Dotted field path (`spec.services.registry`) → 1-based line.
    lines: Lines,
    /// The kustomization that uses this file as a patch: a partial object, not a whole one.
    pub patch_of: Option<String>,
}

impl Document {
    pub fn new(source: impl Into<String>, line: usize, value: Value) -> Self {
        Document {
            source: source.into(),
            line,
            value,
            lines: Lines::default(),
            patch_of: None,
        }
    }

    /// The line of a field, or of its nearest ancestor the parser located, or the object's.
    /// The path is written as the API server writes it (`metrics[0].type`) or dotted
    /// (`metrics.0.type`).
    pub fn line_of(&self, path: &str) -> usize {
        let dotted;
        let mut p = path;
        if path.contains('[') {
            dotted = path.replace(']', "").replace('[', ".");
            p = &dotted;
        }
        loop {
            if let Some(line) = self.lines.get(p) {
                return line;
            }
            match p.rfind('.') {
                Some(i) => p = &p[..i],
                None => return self.line,
            }
        }
    }
}

/// One input (a file, a path given to `-f`, or stdin) that could not be read or parsed. The
/// other inputs are still checked; the failure is reported with their results.
#[derive(Debug)]
pub struct InputFailure {
    pub source: String,
    /// Where parsing stopped, when it got that far.
    pub line: Option<usize>,
    pub error: Error,
}

/// Everything read from the paths: the documents of every input that parsed, and a failure
/// for each that did not.
#[derive(Debug, Default)]
pub struct Inputs {
    pub docs: Vec<Document>,
    pub failures: Vec<InputFailure>,
    /// Helm chart templates met on the way, not checkable as they are.
    pub templates: Vec<Template>,
    /// Files left out by `--exclude`.
    pub excluded: usize,
}

/// A Helm chart template: Go template text that is YAML only once `helm template` renders it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Template {
    pub source: String,
    /// The chart's directory (the one with `Chart.yaml`), when the file is under its
    /// `templates/`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chart: Option<String>,
}

impl Template {
    /// The command that renders it into what can be checked.
    pub fn command(&self) -> String {
        use crate::suggest::shell_quote;
        match &self.chart {
            Some(chart) => format!(
                "helm template {} | kubectl feast validate -f -",
                shell_quote(chart)
            ),
            None => "helm template CHART | kubectl feast validate -f -".to_string(),
        }
    }
}

/// How paths are read: what `--exclude` leaves out.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Globs (`*` within a path segment, `**` across segments, `?` one character), matched
    /// against each file's path and every tail of it (`templates/*.yaml` matches
    /// `chart/templates/a.yaml`).
    pub exclude: Vec<String>,
}

impl ReadOptions {
    fn excludes(&self, path: &Path) -> bool {
        let shown = path.display().to_string();
        let tails = std::iter::once(shown.as_str())
            .chain(shown.match_indices('/').map(|(i, _)| &shown[i + 1..]));
        let tails: Vec<&str> = tails.collect();
        self.exclude.iter().any(|g| {
            tails
                .iter()
                .any(|t| glob_match(g.trim_start_matches("./"), t))
        })
    }
}

/// Whether `path` matches the glob `pattern` as a whole: `*` and `?` within one `/`-separated
/// segment, `**` across any number of segments.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    fn segment(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => segment(&p[1..], s) || (!s.is_empty() && segment(p, &s[1..])),
            (Some(b'?'), Some(_)) => segment(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => segment(&p[1..], &s[1..]),
            _ => false,
        }
    }
    fn segments(p: &[&str], s: &[&str]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(&"**"), _) => segments(&p[1..], s) || (!s.is_empty() && segments(p, &s[1..])),
            (Some(a), Some(b)) => segment(a.as_bytes(), b.as_bytes()) && segments(&p[1..], &s[1..]),
            _ => false,
        }
    }
    let p: Vec<&str> = pattern.split('/').collect();
    let s: Vec<&str> = path.split('/').collect();
    segments(&p, &s)
}

/// The chart a file is a template of: a `templates` directory above it whose parent holds
/// `Chart.yaml`.
fn chart_of(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .skip(1)
        .find(|dir| dir.file_name().is_some_and(|n| n == "templates"))
        .and_then(Path::parent)
        .filter(|chart| chart.join("Chart.yaml").is_file())
        .map(Path::to_path_buf)
}

/// Go template actions (`{{ .Values.x }}`): text that is YAML only once rendered.
fn has_template_actions(text: &str) -> bool {
    text.find("{{").is_some_and(|i| text[i..].contains("}}"))
}

/// The files the kustomizations under `files` use as patches (`patches[].path`,
/// `patchesStrategicMerge`, `patchesJson6902[].path`), each with its kustomization.
fn kustomize_patches(files: &[PathBuf]) -> std::collections::HashMap<PathBuf, String> {
    let mut out = std::collections::HashMap::new();
    for k in files.iter().filter(|f| {
        f.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| matches!(n, "kustomization.yaml" | "kustomization.yml"))
    }) {
        let Ok(text) = std::fs::read_to_string(k) else {
            continue;
        };
        let Ok(v) = serde_saphyr::from_str::<Value>(&text) else {
            continue;
        };
        let dir = k.parent().unwrap_or(Path::new("."));
        let paths = ["patches", "patchesJson6902"]
            .iter()
            .filter_map(|key| v.get(key).and_then(Value::as_array))
            .flatten()
            .filter_map(|p| p.get("path").and_then(Value::as_str))
            .chain(
                v.get("patchesStrategicMerge")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    // An inline patch is YAML text, not a file name.
                    .filter(|p| !p.contains('\n')),
            );
        for p in paths {
            let file = dir.join(p);
            let key = std::fs::canonicalize(&file).unwrap_or(file);
            out.entry(key).or_insert_with(|| k.display().to_string());
        }
    }
    out
}

/// Reads every path (`-` is stdin) into documents, in order. Directories are walked
/// recursively in name order. An input that cannot be read or parsed is recorded and the
/// rest are read all the same.
pub fn read_inputs(paths: &[String], stdin: &mut dyn Read) -> Inputs {
    read_inputs_with(paths, stdin, &ReadOptions::default())
}

/// [`read_inputs`] with `--exclude`: and in a directory, Helm chart templates are set aside
/// (to be rendered first) and the files a kustomization uses as patches are marked as such.
pub fn read_inputs_with(paths: &[String], stdin: &mut dyn Read, opts: &ReadOptions) -> Inputs {
    let mut inputs = Inputs::default();
    let add = |source: &str, parsed: Result<Vec<Document>>, inputs: &mut Inputs| match parsed {
        Ok(docs) => inputs.docs.extend(docs),
        Err(error) => inputs.failures.push(InputFailure {
            source: source.to_string(),
            line: error_line(&error.message, source),
            error,
        }),
    };
    for p in paths {
        if p == "-" {
            let parsed =
                read_bounded(stdin, "<stdin>").and_then(|t| parse_documents("<stdin>", &t));
            add("<stdin>", parsed, &mut inputs);
            continue;
        }
        let path = Path::new(p);
        let files = std::fs::metadata(path)
            .map_err(|e| {
                Error::incomplete(format!("cannot read {p}: {e}"))
                    .with_hint("check the path given to -f/--filename")
            })
            .and_then(|meta| {
                if meta.is_dir() {
                    let mut files = Vec::new();
                    walk(path, &mut files).map(|()| files)
                } else {
                    Ok(vec![path.to_path_buf()])
                }
            });
        let files = match files {
            Ok(files) => files,
            Err(e) => {
                add(p, Err(e), &mut inputs);
                continue;
            }
        };
        let patches = kustomize_patches(&files);
        for file in files {
            if opts.excludes(&file) {
                inputs.excluded += 1;
                continue;
            }
            let name = file.display().to_string();
            let text = std::fs::File::open(&file)
                .map_err(|e| Error::incomplete(format!("cannot read {name}: {e}")))
                .and_then(|handle| read_bounded(&mut std::io::BufReader::new(handle), &name));
            let chart = chart_of(&file);
            if chart.is_some() || text.as_deref().is_ok_and(has_template_actions) {
                inputs.templates.push(Template {
                    source: name,
                    chart: chart.map(|c| c.display().to_string()),
                });
                continue;
            }
            let patch_of = patches
                .get(&std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone()))
                .cloned();
            let parsed = text.and_then(|text| parse_documents(&name, &text));
            let parsed = parsed.map(|mut docs| {
                for d in &mut docs {
                    d.patch_of.clone_from(&patch_of);
                }
                docs
            });
            add(&name, parsed, &mut inputs);
        }
    }
    inputs
}

/// Like [`read_inputs`], for inputs that must all be read (a CRD, a metrics file): the first
/// failure is the error.
pub fn read_paths(paths: &[String], stdin: &mut dyn Read) -> Result<Vec<Document>> {
    let mut inputs = read_inputs(paths, stdin);
    if inputs.failures.is_empty() {
        Ok(inputs.docs)
    } else {
        Err(inputs.failures.remove(0).error)
    }
}

/// The line in a `cannot parse SOURCE:LINE:COLUMN: …` message.
fn error_line(message: &str, source: &str) -> Option<usize> {
    let rest = message.strip_prefix(&format!("cannot parse {source}:"))?;
    rest.split(':').next()?.parse().ok()
}

/// The manifest files under `dir`, in name order. Symbolic links are followed (a repository
/// may link a shared base in), but a link back into one of its own ancestors (`a -> .`) is
/// a loop and is not entered, and a file reached twice (through two links) is read once.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) if e.loop_ancestor().is_some() => continue,
            Err(e) => {
                let at = e
                    .path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| dir.display().to_string());
                return Err(Error::incomplete(format!("cannot read {at}: {e}")));
            }
        };
        let manifest = entry.file_type().is_file()
            && entry
                .path()
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"));
        if manifest && seen.insert(file_identity(entry.path())) {
            out.push(entry.into_path());
        }
    }
    Ok(())
}

/// What makes two paths one file: its device and inode (its canonical path elsewhere).
fn file_identity(path: &Path) -> (u64, u64, Option<PathBuf>) {
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::MetadataExt;
        return (meta.dev(), meta.ino(), None);
    }
    (0, 0, std::fs::canonicalize(path).ok())
}

fn read_bounded(reader: &mut dyn Read, name: &str) -> Result<String> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::incomplete(format!("cannot read {name}: {e}")))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(Error::incomplete(format!(
            "{name} is larger than {} MiB, the most kubectl-feast reads from one input",
            MAX_INPUT_BYTES / (1024 * 1024)
        ))
        .with_hint("split the manifests into smaller files, or validate the FeatureStores alone"));
    }
    String::from_utf8(bytes).map_err(|e| {
        Error::incomplete(format!(
            "{name} is not UTF-8 text (invalid byte at offset {}): is it a binary file?",
            e.utf8_error().valid_up_to()
        ))
        .with_hint("give -f a YAML or JSON manifest")
    })
}

/// The parser's options; `parts` texts share the node budget of one.
fn options(parts: usize) -> Options {
    let mut budget = Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.flow_nesting_limit = MAX_DEPTH;
    // A cluster export holds thousands of documents; the input size already bounds these
    // two, while the alias limits keep their defaults against expansion bombs.
    budget.max_documents = 100_000;
    budget.max_nodes = 4_000_000 / parts.max(1);
    let mut options = Options::default();
    options.budget = Some(budget);
    options.with_snippet = false;
    // Comments are still read and checked as syntax, but not kept: nothing here shows them.
    options.emit_comments = false;
    options
}

/// Parses a YAML (or JSON) text with any number of documents; `kind: List` is flattened into
/// its items. Empty documents are dropped. One JSON value is read by the JSON fast path; any
/// other text (and JSON the fast path declines) by the YAML parser.
pub fn parse_documents(source: &str, text: &str) -> Result<Vec<Document>> {
    let fast = crate::fast::Fast::Json
        .on()
        .then(|| json::parse(text))
        .flatten();
    let roots = match fast {
        Some(p) => vec![(p.line, p.value, p.lines)],
        None => parse_yaml(text).map_err(|e| e.into_error(source, text))?,
    };
    Ok(flatten(source, roots))
}

/// Why the YAML parser stopped, turned into an error naming the source later.
enum YamlFailure {
    Syntax(serde_saphyr::Error),
    Crashed,
}

impl YamlFailure {
    fn into_error(self, source: &str, text: &str) -> Error {
        match self {
            YamlFailure::Syntax(e) => parse_error(source, text, &e),
            YamlFailure::Crashed => {
                Error::incomplete(format!("cannot parse {source}: the YAML parser failed"))
            }
        }
    }
}

/// One parsed document: its first line, its value, its field lines.
type Root = (usize, Value, Lines);

/// Every document of a YAML text, with the line of every field. A large multi-document text
/// is cut at document starts and its parts parsed on several threads (documents are
/// independent in YAML); if a part does not parse alone, the whole text is parsed again in
/// one piece, so an error reads exactly as it would have.
fn parse_yaml(text: &str) -> std::result::Result<Vec<Root>, YamlFailure> {
    if !crate::fast::Fast::Cut.on() {
        return parse_parts(text, &[0]);
    }
    let threads = crate::parallel::threads();
    let starts = part_starts(text, threads);
    if starts.len() > 1 {
        if let Ok(roots) = parse_parts(text, &starts) {
            return Ok(roots);
        }
    } else if let Some(cut) = list_cut(text, threads)
        && let Ok(root) = parse_list(text, &cut)
    {
        return Ok(vec![root]);
    }
    parse_parts(text, &[0])
}

/// Where to cut one large document whose root `items:` is a block sequence at column 0, as
/// `kubectl get -o yaml` prints a List: the sequence from its key's line to its end, and the
/// item starts (`- ` lines) to cut it at, about equal parts.
#[derive(Debug, PartialEq)]
struct ListCut {
    /// The offset of the `items:` line.
    key: usize,
    /// The offset of the first line after the sequence.
    end: usize,
    /// The offsets of the parts' first items.
    starts: Vec<usize>,
}

fn list_cut(text: &str, parts: usize) -> Option<ListCut> {
    // One document: no `---` or `...` marker after the first line.
    if !cuttable(text, parts) || text.contains("\n---") || text.contains("\n...") {
        return None;
    }
    let key = match text.starts_with("items:\n") {
        true => 0,
        false => text.find("\nitems:\n")? + 1,
    };
    let first = key + "items:\n".len();
    if !text[first..].starts_with("- ") {
        return None;
    }
    // The sequence ends at the first line that starts at column 0 with anything but an item
    // (`- `), an indented continuation, a comment or nothing.
    let mut end = text.len();
    let mut pos = first;
    while let Some(i) = text[pos..].find('\n') {
        let line = pos + i + 1;
        match text.as_bytes().get(line) {
            None => break,
            Some(b'-' | b' ' | b'\n' | b'#') => pos = line,
            Some(_) => {
                end = line;
                break;
            }
        }
    }
    let parts = parts.min((end - first) / PARALLEL_MIN_BYTES);
    let mut starts = vec![first];
    for k in 1..parts {
        let mut from = first + (end - first) / parts * k;
        while !text.is_char_boundary(from) {
            from += 1;
        }
        let at = from + text[from..end].find("\n- ")? + 1;
        if starts.last().is_some_and(|&last| at > last) {
            starts.push(at);
        }
    }
    (starts.len() > 1).then_some(ListCut { key, end, starts })
}

/// A List cut by [`list_cut`], its parts parsed on their own threads: the items part by part,
/// and the rest of the document with the sequence's lines left blank (`items: []` on its
/// key's line), so that every line keeps its number. Reads as the whole text would.
fn parse_list(text: &str, cut: &ListCut) -> std::result::Result<Root, YamlFailure> {
    let blank = lines_in(&text[cut.key..cut.end]);
    let envelope = format!(
        "{}items: []{}{}",
        &text[..cut.key],
        "\n".repeat(blank),
        &text[cut.end..]
    );
    let parts = cut.starts.len();
    std::thread::scope(|scope| {
        let outer = spawn_parser(scope, || parse_part(&envelope, 0, parts));
        let mut base = lines_in(&text[..cut.starts[0]]);
        let mut handles = Vec::with_capacity(parts);
        for (i, &start) in cut.starts.iter().enumerate() {
            let end = cut.starts.get(i + 1).copied().unwrap_or(cut.end);
            let part = &text[start..end];
            let at = base;
            handles.push(spawn_parser(scope, move || parse_items(part, at, parts)));
            base += lines_in(part);
        }
        let mut outer = joined(outer)?;
        let (Some((line, mut value, lines)), true) = (outer.pop(), outer.is_empty()) else {
            return Err(YamlFailure::Crashed);
        };
        let mut items = Vec::new();
        let mut item_lines = Vec::with_capacity(parts);
        for handle in handles {
            let (values, lines) = joined(handle)?;
            items.extend(values);
            item_lines.push(lines);
        }
        match value.get_mut("items") {
            Some(slot @ Value::Array(_)) => *slot = Value::Array(items),
            _ => return Err(YamlFailure::Crashed),
        }
        Ok((line, value, lines.with_items(item_lines)))
    })
}

/// A parser thread, with a stack deep enough for [`MAX_DEPTH`] levels.
fn spawn_parser<'scope, T: Send + 'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    f: impl FnOnce() -> std::result::Result<T, YamlFailure> + Send + 'scope,
) -> std::io::Result<std::thread::ScopedJoinHandle<'scope, std::result::Result<T, YamlFailure>>> {
    std::thread::Builder::new()
        .stack_size(PARSER_STACK_BYTES)
        .spawn_scoped(scope, f)
}

/// A parser thread's result; one that could not start or panicked is a crash.
fn joined<T>(
    handle: std::io::Result<std::thread::ScopedJoinHandle<'_, std::result::Result<T, YamlFailure>>>,
) -> std::result::Result<T, YamlFailure> {
    match handle.map(|h| h.join()) {
        Ok(Ok(result)) => result,
        Ok(Err(_)) | Err(_) => Err(YamlFailure::Crashed),
    }
}

/// One part of a List's items: a block sequence read as the root `items` array, so each item
/// keeps its lines apart, as in the whole document.
fn parse_items(
    part: &str,
    base: usize,
    parts: usize,
) -> std::result::Result<(Vec<Value>, Lines), YamlFailure> {
    let mut options = options(parts);
    // The items sit one level higher here than in the whole document: never accept one
    // that the whole document's limit refuses.
    if let Some(budget) = options.budget.as_mut() {
        budget.max_depth = MAX_DEPTH - 1;
    }
    let mut nodes = serde_saphyr::from_multiple_with_options::<Spanned<Node>>(part, options)
        .map_err(YamlFailure::Syntax)?;
    let (Some(node), true) = (nodes.pop(), nodes.is_empty()) else {
        return Err(YamlFailure::Crashed);
    };
    let mut rec = Recorder::after_lines(base);
    let mark = rec.enter("items");
    let value = node.value.into_json(&mut rec);
    rec.leave(mark);
    match value {
        Value::Array(items) => Ok((items, rec.finish())),
        _ => Err(YamlFailure::Crashed),
    }
}

/// Texts smaller than this are parsed on one thread: starting threads would cost more than
/// they save.
const PARALLEL_MIN_BYTES: usize = 256 * 1024;

/// Whether a text is worth cutting into `parts` parts, and safe to: large enough, more than
/// one core, and nothing a cut could change the meaning of: a directive (`%YAML`, `%TAG`)
/// applies to the document after it, and a lone CR is a line break to YAML that
/// [`lines_in`] would miss.
fn cuttable(text: &str, parts: usize) -> bool {
    parts >= 2
        && text.len() >= 2 * PARALLEL_MIN_BYTES
        && !text.contains('\r')
        && !text.starts_with('%')
        && !text.contains("\n%")
}

/// The line breaks in a part of a text: the lines it moves the next part down by.
fn lines_in(part: impl AsRef<[u8]>) -> usize {
    part.as_ref().iter().filter(|&&b| b == b'\n').count()
}

/// Where to cut `text` into about `parts` equal parts, each starting at a `---` line (byte
/// offsets, the first 0); one part unless the text is [`cuttable`].
fn part_starts(text: &str, parts: usize) -> Vec<usize> {
    let mut starts = vec![0];
    if !cuttable(text, parts) {
        return starts;
    }
    let parts = parts.min(text.len() / PARALLEL_MIN_BYTES);
    for k in 1..parts {
        let mut from = text.len() / parts * k;
        while !text.is_char_boundary(from) {
            from += 1;
        }
        match next_document_start(text, from) {
            Some(at) if starts.last().is_some_and(|&last| at > last) => starts.push(at),
            Some(_) => {}
            None => break,
        }
    }
    starts
}

/// The offset of the first `---` document-start line at or after `from`.
fn next_document_start(text: &str, from: usize) -> Option<usize> {
    let mut pos = from;
    loop {
        let at = pos + text.get(pos..)?.find("\n---")? + 1;
        match text.as_bytes().get(at + 3) {
            None | Some(b'\n' | b' ' | b'\t') => return Some(at),
            Some(_) => pos = at,
        }
    }
}

/// Parses the parts of `text` that start at `starts`, each on its own thread, in order.
fn parse_parts(text: &str, starts: &[usize]) -> std::result::Result<Vec<Root>, YamlFailure> {
    // The parser and the node tree recurse once per nesting level. Depth is bounded, but
    // a caller's thread may have a small stack (test threads have 2 MiB), so parse on
    // threads whose stack is known to be enough.
    std::thread::scope(|scope| {
        let mut base = 0;
        let mut handles = Vec::with_capacity(starts.len());
        for (i, &start) in starts.iter().enumerate() {
            let end = starts.get(i + 1).copied().unwrap_or(text.len());
            let part = &text[start..end];
            let (at, parts) = (base, starts.len());
            handles.push(spawn_parser(scope, move || parse_part(part, at, parts)));
            base += lines_in(part);
        }
        let mut roots = Vec::new();
        for handle in handles {
            roots.extend(joined(handle)?);
        }
        Ok(roots)
    })
}

/// One part's documents; its lines counted from `base` lines into the whole text.
fn parse_part(
    part: &str,
    base: usize,
    parts: usize,
) -> std::result::Result<Vec<Root>, YamlFailure> {
    let nodes = serde_saphyr::from_multiple_with_options::<Spanned<Node>>(part, options(parts))
        .map_err(YamlFailure::Syntax)?;
    Ok(nodes
        .into_iter()
        .map(|node| {
            let line = node.referenced.line() as usize + base;
            let mut rec = Recorder::after_lines(base);
            let value = node.value.into_json(&mut rec);
            (line, value, rec.finish())
        })
        .collect())
}

/// Documents from parsed roots: nulls dropped, a `kind: List` split into its items (each
/// with its own field lines).
fn flatten(source: &str, roots: Vec<Root>) -> Vec<Document> {
    let mut docs = Vec::new();
    for (line, mut value, lines) in roots {
        if value.is_null() {
            continue;
        }
        let is_list = value
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k.ends_with("List"))
            && value.get("items").is_some_and(Value::is_array);
        let items = if is_list {
            value.get_mut("items").map(Value::take)
        } else {
            None
        };
        let Some(Value::Array(items)) = items else {
            docs.push(Document {
                source: source.to_string(),
                line,
                value,
                lines,
                patch_of: None,
            });
            continue;
        };
        // Each item's lines were kept apart while parsing: they move with it.
        let mut per_item = lines.into_items().into_iter();
        for item in items {
            let item_lines = per_item.next().unwrap_or_default();
            docs.push(Document {
                source: source.to_string(),
                line: item_lines.own_line().unwrap_or(line),
                value: item,
                lines: item_lines,
                patch_of: None,
            });
        }
    }
    docs
}

fn parse_error(source: &str, text: &str, e: &serde_saphyr::Error) -> Error {
    let at = e
        .location()
        .map(|l| format!("{source}:{}:{}", l.line(), l.column()))
        .unwrap_or_else(|| source.to_string());
    let message = e.to_string();
    let first = message.lines().next().unwrap_or("").trim();
    if let Some(key) = first
        .strip_prefix("duplicate mapping key: ")
        .and_then(|rest| rest.split(", set DuplicateKeyPolicy").next())
        && let Some(location) = e.location()
    {
        // go-yaml's words for it (Kubernetes' strict decoding): both lines, none of our
        // parser's internals.
        let line = location.line() as usize;
        let earlier = earlier_key_line(text, line, location.column() as usize, key)
            .map(|l| format!(" already defined at line {l}"))
            .unwrap_or_else(|| " already defined".into());
        return Error::incomplete(format!(
            "cannot parse {at}: line {line}: mapping key {key:?}{earlier}"
        ))
        .with_hint(
            "a key may appear once in a mapping: keep the value you mean and delete the other line",
        );
    }
    let first = first.to_string();
    let first = first.as_str();
    let hint = if first.contains("budget") || first.contains("limit") {
        format!(
            "kubectl-feast bounds YAML nesting ({MAX_DEPTH} levels), aliases and node counts to stay \
             safe on hostile input; a FeatureStore manifest never comes near them"
        )
    } else {
        "fix the YAML/JSON syntax at that line; kubectl-feast reads Kubernetes manifests".into()
    };
    Error::incomplete(format!("cannot parse {at}: {first}")).with_hint(hint)
}

/// The line of the first `key:` of the mapping whose repeated key is at `line`, `column`
/// (1-based): the closest line above it at the same indentation with that key, before the
/// mapping's parent (a line indented less). Block style only; `None` otherwise.
fn earlier_key_line(text: &str, line: usize, column: usize, key: &str) -> Option<usize> {
    let indent = column.checked_sub(1)?;
    let lines: Vec<&str> = text.lines().collect();
    for n in (0..line.checked_sub(1)?).rev() {
        let l = lines.get(n)?;
        let trimmed = l.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let own = l.len() - trimmed.len();
        // `- key:` starts a mapping inside a list item: its key sits after the dash.
        let (own, body) = match trimmed.strip_prefix("- ") {
            Some(rest) => (
                own + 2 + (rest.len() - rest.trim_start().len()),
                rest.trim_start(),
            ),
            None => (own, trimmed),
        };
        if own < indent {
            return None;
        }
        if own == indent
            && let Some((name, _)) = body.split_once(':')
            && name.trim().trim_matches(['"', '\'']) == key
        {
            return Some(n + 1);
        }
    }
    None
}

/// A YAML node with the locations of its children, turned into JSON once parsed.
enum Node {
    Scalar(Value),
    Seq(Vec<Spanned<Node>>),
    /// Entries with the line of each key.
    Map(Vec<(String, usize, Spanned<Node>)>),
}

impl Node {
    fn into_json(self, rec: &mut Recorder) -> Value {
        match self {
            Node::Scalar(v) => v,
            // The root's `items`: each element keeps its own lines, for a `kind: List`.
            Node::Seq(items) if rec.at_root_items() => Value::Array(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let saved = rec.enter_item(i, item.referenced.line() as usize);
                        let value = item.value.into_json(rec);
                        rec.leave_item(saved);
                        value
                    })
                    .collect(),
            ),
            Node::Seq(items) => {
                let mut index = Index::default();
                Value::Array(
                    items
                        .into_iter()
                        .enumerate()
                        .map(|(i, item)| {
                            let mark = rec.enter(index.format(i));
                            rec.record(item.referenced.line() as usize);
                            let value = item.value.into_json(rec);
                            rec.leave(mark);
                            value
                        })
                        .collect(),
                )
            }
            Node::Map(entries) => {
                let mut map = Map::new();
                for (key, key_line, value) in entries {
                    let mark = rec.enter(&key);
                    rec.record(key_line);
                    let value = value.value.into_json(rec);
                    rec.leave(mark);
                    map.insert(key, value);
                }
                Value::Object(map)
            }
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<Node, E> {
        Ok(Node::Scalar(Value::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Node, E> {
        Ok(Node::Scalar(Value::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Node, E> {
        Ok(Node::Scalar(Value::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Node, E> {
        // JSON has no NaN or infinity; keep such a value as its text.
        Ok(Node::Scalar(Number::from_f64(v).map_or_else(
            || Value::String(v.to_string()),
            Value::Number,
        )))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Node, E> {
        Ok(Node::Scalar(Value::String(v.to_string())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<Node, E> {
        Ok(Node::Scalar(Value::String(v)))
    }
    fn visit_unit<E: de::Error>(self) -> std::result::Result<Node, E> {
        Ok(Node::Scalar(Value::Null))
    }
    fn visit_none<E: de::Error>(self) -> std::result::Result<Node, E> {
        Ok(Node::Scalar(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Key>>()? {
            let line = key.referenced.line() as usize;
            entries.push((key.value.0, line, map.next_value::<Spanned<Node>>()?));
        }
        Ok(Node::Map(entries))
    }
}

/// A mapping key: Kubernetes keys are strings, but YAML allows `1:` or `true:`; those become
/// their text, as JSON would need.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<Key, E> {
                Ok(Key("null".into()))
            }
        }
        d.deserialize_any(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn multi_document_yaml_keeps_document_and_field_lines() {
        let text = "apiVersion: v1\nkind: ConfigMap\n---\napiVersion: feast.dev/v1\nkind: FeatureStore\nmetadata:\n  name: a\nspec:\n  replicas: 3\n";
        let docs = parse_documents("f.yaml", text).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].value["spec"]["replicas"], json!(3));
        assert_eq!(docs[1].line_of("spec.replicas"), 9);
        assert_eq!(
            docs[1].line_of("spec.services.registry"),
            8,
            "falls back to the nearest ancestor"
        );
        assert!(docs[1].line >= 3 && docs[1].line <= 4, "{}", docs[1].line);
    }

    #[test]
    fn kind_list_is_flattened_with_item_lines() {
        let text = "kind: List\napiVersion: v1\nitems:\n- kind: FeatureStore\n  metadata: {name: a}\n- kind: FeatureStore\n  metadata:\n    name: b\n  spec:\n    replicas: 2\n";
        let docs = parse_documents("l.yaml", text).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].value["metadata"]["name"], json!("b"));
        assert_eq!(docs[1].line_of("spec.replicas"), 10);
    }

    /// The fast path must read JSON exactly as the YAML parser does: values, document lines
    /// and field lines, pretty-printed or on one line.
    #[test]
    fn the_json_fast_path_reads_as_the_yaml_parser() {
        let list = json!({"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
             "metadata": {"name": "a", "labels": {"x/y": "1"}},
             "spec": {"feastProject": "p", "replicas": 3, "ratio": 0.5, "big": u64::MAX,
                      "neg": -7, "esc": "a\"b\\c\u{e9}\n", "empty": {}, "none": [], "n": null,
                      "services": {"onlineStore": {"server": {"env": [{"name": "A", "value": "1"}]}}}}},
            {"kind": "FeatureStore", "metadata": {"name": "b"}}
        ]});
        for text in [
            serde_json::to_string_pretty(&list).unwrap(),
            serde_json::to_string(&list).unwrap(),
            "\n\n  [1, {\"a\":\n [true]}]\n".to_string(),
        ] {
            let fast = json::parse(&text).expect("JSON");
            let mut slow = parse_yaml(&text).ok().expect("YAML");
            assert_eq!(slow.len(), 1);
            let (line, value, lines) = slow.remove(0);
            assert_eq!(fast.value, value, "{text}");
            assert_eq!(fast.line, line, "{text}");
            assert_eq!(fast.lines, lines, "{text}");
        }
    }

    #[test]
    fn the_json_fast_path_and_the_yaml_parser_share_the_depth_limit() {
        for depth in [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1] {
            let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            assert_eq!(
                json::parse(&text).is_some(),
                parse_yaml(&text).is_ok(),
                "depth {depth}"
            );
        }
    }

    /// A large multi-document text, as `kubectl get -o yaml` of many objects prints it.
    fn many_documents(count: usize) -> String {
        (0..count)
            .map(|i| {
                format!(
                    "---\napiVersion: feast.dev/v1\nkind: FeatureStore # c\nmetadata:\n  name: s{i}\n\
                     spec:\n  replicas: {i}\n  services:\n    registry: {{local: {{}}}}\n    env:\n    - a\n    - b\n"
                )
            })
            .collect()
    }

    #[test]
    fn a_large_text_parsed_in_parts_reads_as_in_one_piece() {
        let text = many_documents(8_000);
        let starts = part_starts(&text, 4);
        assert_eq!(starts.len(), 4, "{} bytes", text.len());
        for &s in &starts[1..] {
            assert!(text[s..].starts_with("---\n") && text[..s].ends_with('\n'));
        }
        let parted = parse_parts(&text, &starts).ok().expect("parts");
        let whole = parse_parts(&text, &[0]).ok().expect("whole");
        assert_eq!(parted.len(), 8_000);
        assert_eq!(parted, whole, "values, document lines and field lines");
        let docs = parse_documents("many.yaml", &text).unwrap();
        assert_eq!(docs[7_999].line_of("spec.services.env.1"), 8_000 * 12);
    }

    #[test]
    fn an_error_in_a_later_part_reads_as_in_one_piece() {
        let text = format!(
            "{}---\nkind: FeatureStore\nspec: [unclosed\n",
            many_documents(8_000)
        );
        assert!(part_starts(&text, 2).len() == 2);
        let parted = parse_documents("many.yaml", &text).unwrap_err();
        let whole = parse_parts(&text, &[0])
            .expect_err("an error")
            .into_error("many.yaml", &text);
        assert_eq!(parted.message, whole.message);
        assert!(
            parted.message.starts_with("cannot parse many.yaml:96003:"),
            "{}",
            parted.message
        );
    }

    /// A large List as `kubectl get -o yaml` prints it.
    fn big_list(count: usize) -> String {
        let items: String = (0..count)
            .map(|i| {
                format!(
                    "- apiVersion: feast.dev/v1\n  kind: FeatureStore\n  metadata:\n    name: s{i} # c\n\
                     \n  spec:\n    replicas: {i}\n    env:\n    - a\n    - {{b: [1, 2]}}\n"
                )
            })
            .collect();
        format!("apiVersion: v1\nitems:\n{items}kind: List\nmetadata:\n  resourceVersion: \"\"\n")
    }

    #[test]
    fn a_large_list_parsed_in_parts_reads_as_in_one_piece() {
        let text = big_list(8_000);
        let cut = list_cut(&text, 4).expect("a List to cut");
        assert_eq!(cut.starts.len(), 4);
        assert!(text[cut.end..].starts_with("kind: List"));
        let parted = parse_list(&text, &cut).ok().expect("parts");
        let mut whole = parse_parts(&text, &[0]).ok().expect("whole");
        assert_eq!(whole.len(), 1);
        assert_eq!(
            parted,
            whole.remove(0),
            "value, document line and field lines"
        );
        let docs = parse_documents("list.yaml", &text).unwrap();
        assert_eq!(docs.len(), 8_000);
        assert_eq!(docs[7_999].line, 2 + 7_999 * 10 + 1);
        assert_eq!(docs[7_999].line_of("spec.env.1.b"), 2 + 8_000 * 10);
    }

    #[test]
    fn an_error_in_a_list_item_reads_as_in_one_piece() {
        let text = big_list(8_000).replace("name: s7000 # c", "name: [s7000");
        assert!(list_cut(&text, 2).is_some());
        let parted = parse_documents("list.yaml", &text).unwrap_err();
        let whole = parse_parts(&text, &[0])
            .expect_err("an error")
            .into_error("list.yaml", &text);
        assert_eq!(parted.message, whole.message);
    }

    #[test]
    fn only_a_root_items_sequence_at_column_0_is_cut() {
        let text = big_list(8_000);
        assert_eq!(list_cut(&text, 1), None, "one core");
        assert_eq!(
            list_cut(&text.replace("\n- ", "\n  - "), 4),
            None,
            "indented items"
        );
        assert_eq!(
            list_cut(&text.replace("\nitems:\n", "\nthings:\n"), 4),
            None,
            "no items"
        );
        assert_eq!(
            list_cut(&format!("a: 1\n---\n{text}"), 4),
            None,
            "several documents"
        );
        assert_eq!(list_cut(&text[..100_000], 4), None, "small");
    }

    #[test]
    fn texts_are_cut_only_where_a_cut_keeps_their_meaning() {
        let text = many_documents(8_000);
        assert_eq!(part_starts(&text[..1000], 2), [0], "small");
        assert_eq!(
            part_starts(&format!("%YAML 1.2\n{text}"), 2),
            [0],
            "a directive"
        );
        assert_eq!(
            part_starts(&text.replace('\n', "\r\n"), 2),
            [0],
            "CR line breaks"
        );
        assert_eq!(part_starts(&text, 1), [0], "one core");
        assert_eq!(
            next_document_start("a\n----\nb\n---x\n--- |\n", 0),
            Some(14)
        );
        assert_eq!(next_document_start("a\n---", 0), Some(2));
        assert_eq!(next_document_start("a\n----", 0), None);
    }

    #[test]
    fn json_input_parses_too() {
        let docs =
            parse_documents("x.json", r#"{"kind":"FeatureStore","spec":{"replicas":2}}"#).unwrap();
        assert_eq!(docs[0].value["spec"]["replicas"], json!(2));
    }

    #[test]
    fn syntax_errors_name_file_and_line() {
        let err = parse_documents("bad.yaml", "a: b\n  c: [\n").unwrap_err();
        assert!(err.message.contains("bad.yaml:"), "{}", err.message);
        assert_eq!(err.exit_code(), 3);
    }

    #[test]
    fn a_duplicate_key_names_both_lines() {
        let text = "apiVersion: feast.dev/v1\nkind: FeatureStore\nmetadata:\n  name: a\nspec:\n  replicas: 2\n  services:\n    replicas: 9\n  # a comment\n  replicas: 3\n";
        let e = parse_documents("dup.yaml", text).expect_err("refused");
        assert_eq!(
            e.message,
            "cannot parse dup.yaml:10:3: line 10: mapping key \"replicas\" already defined at line 6"
        );
        assert!(!e.message.contains("DuplicateKeyPolicy"));
        let listed = "items:\n- name: a\n  name: b\n";
        let e = parse_documents("l.yaml", listed).expect_err("refused");
        assert!(
            e.message
                .ends_with("mapping key \"name\" already defined at line 2"),
            "{}",
            e.message
        );
    }

    #[test]
    fn yaml_bombs_are_refused() {
        let mut bomb =
            String::from("a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
        let mut prev = 'a';
        for c in 'b'..='j' {
            bomb.push_str(&format!("{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
            prev = c;
        }
        let err = parse_documents("bomb.yaml", &bomb).unwrap_err();
        assert!(err.message.contains("bomb.yaml"), "{}", err.message);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse_documents("deep.yaml", &deep).is_err());
        let deep_block: String = (0..200)
            .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
            .collect();
        assert!(parse_documents("deep2.yaml", &deep_block).is_err());
    }

    #[test]
    fn binary_input_is_refused_with_a_message() {
        let mut bytes: &[u8] = &[0xff, 0xfe, 0x00, 0x01];
        let err = read_bounded(&mut bytes, "bin").unwrap_err();
        assert!(err.message.contains("not UTF-8"), "{}", err.message);
    }

    #[test]
    fn oversized_input_is_refused() {
        let big = vec![b'a'; (MAX_INPUT_BYTES + 10) as usize];
        let err = read_bounded(&mut big.as_slice(), "big.yaml").unwrap_err();
        assert!(
            err.message.contains("larger than 16 MiB"),
            "{}",
            err.message
        );
    }
}
