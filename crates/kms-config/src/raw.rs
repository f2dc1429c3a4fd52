//! Syntax: HCL v1 (`crate::hclv1`, Boundary's reader) or JSON, into raw `kms` blocks. Every
//! other top-level block and attribute is ignored, once the whole file has parsed.

use crate::error::ConfigError;
use crate::hclv1::{self, Item, Node};

mod json;

/// A value as written, before typing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Str(String),
    Bool(bool),
    /// A number, as its decimal text.
    Num(String),
    List(Vec<Val>),
    /// Anything else (objects, null, expressions), by description.
    Other(&'static str),
}

impl Val {
    /// What kind of value this is, without showing it (safe for secrets).
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Val::Str(_) => "a string",
            Val::Bool(_) => "a bool",
            Val::Num(_) => "a number",
            Val::List(_) => "a list",
            Val::Other(d) => d,
        }
    }

    /// The kind and, for scalars, the value (not for secrets).
    pub(crate) fn describe(&self) -> String {
        match self {
            Val::Str(s) => format!("the string {s:?}"),
            Val::Bool(b) => format!("the bool {b}"),
            Val::Num(n) => format!("the number {n}"),
            other => other.kind().to_owned(),
        }
    }
}

/// One attribute of a `kms` block.
#[derive(Debug, Clone)]
pub(crate) struct RawAttr {
    pub(crate) key: String,
    pub(crate) value: Val,
}

/// One `kms "TYPE" { ... }` block, untyped.
#[derive(Debug, Clone)]
pub(crate) struct RawBlock {
    /// Lower-cased type label (empty when the label is missing).
    pub(crate) kind: String,
    /// 1-based line of the block.
    pub(crate) line: Option<usize>,
    /// Problems found while reading the block's syntax (nested blocks, bad labels), as
    /// (key, message).
    pub(crate) problems: Vec<(Option<String>, String)>,
    pub(crate) attrs: Vec<RawAttr>,
}

/// The raw blocks of a file and the problems found in its shape; or, for a syntax error,
/// that one problem.
pub(crate) type Parsed = Result<(Vec<RawBlock>, Vec<ConfigError>), Vec<ConfigError>>;

/// The 1-based line of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn file_error(file: &str, line: Option<usize>, message: String) -> ConfigError {
    ConfigError {
        file: file.to_owned(),
        line,
        block: None,
        key: None,
        message,
    }
}

/// Reads the `kms` blocks of an HCL file, as `hcl.Parse` and configutil do: text whose first
/// non-blank character is `{` is JSON; a top-level item whose key is `kms` (in any case) is
/// a kms block. A syntax error anywhere in the file is the one problem reported.
pub(crate) fn parse_hcl(text: &str, file: &str) -> Parsed {
    if text.trim_start().starts_with('{') {
        return parse_json(text, file);
    }
    let items = hclv1::parse(text).map_err(|e| {
        let message = format!("HCL syntax error at column {}: {}", e.pos.col, e.message);
        vec![file_error(file, Some(e.pos.line), message)]
    })?;
    let blocks = items
        .iter()
        .filter(|i| {
            i.keys
                .first()
                .is_some_and(|k| hclv1::key_value(k).eq_ignore_ascii_case("kms"))
        })
        .map(hcl_block)
        .collect();
    Ok((blocks, Vec::new()))
}

fn hcl_block(item: &Item) -> RawBlock {
    let line = item.keys.first().map(|k| k.pos.line);
    let labels = item.keys.get(1..).unwrap_or(&[]);
    let mut problems = Vec::new();
    let kind = match labels {
        [label] => hclv1::key_value(label).to_ascii_lowercase(),
        [] => {
            problems.push((
                None,
                "a kms block needs a type label, e.g. kms \"TYPE\" { ... }".to_owned(),
            ));
            String::new()
        }
        [first, ..] => {
            problems.push((
                None,
                format!(
                    "a kms block takes one label, its type; it has {}",
                    labels.len()
                ),
            ));
            hclv1::key_value(first).to_ascii_lowercase()
        }
    };
    let attrs = match &item.val {
        Node::Obj(body, _) => hclv1::decode_body(body)
            .into_iter()
            .map(|(key, value)| RawAttr { key, value })
            .collect(),
        _ => {
            problems.push((
                None,
                "a kms block must be a block, kms \"TYPE\" { ... }, not a value".to_owned(),
            ));
            Vec::new()
        }
    };
    RawBlock {
        kind,
        line,
        problems,
        attrs,
    }
}

/// Reads the `kms` blocks of a JSON file, in the shapes Boundary's HCL v1 reader accepts:
/// `{"kms": [{"TYPE": {...}}, {"TYPE2": {...}}]}` and `{"kms": {"TYPE": {...}}}`. Text
/// that does not start with `{` is HCL, as `hcl.Parse` decides.
///
/// A syntax error is the one problem reported; shape problems are all reported, and the
/// blocks that are well formed are still read.
pub(crate) fn parse_json(text: &str, file: &str) -> Parsed {
    if !text.trim_start().starts_with('{') {
        // hcl.Parse decides by the text, not the file name.
        return parse_hcl(text, file);
    }
    // serde_json is the judge of syntax and gives the messages; json::parse adds positions.
    if let Err(e) = serde_json::from_str::<serde_json::Value>(text) {
        let message = format!(
            "JSON syntax error at column {}: {}",
            e.column(),
            json_error_text(&e)
        );
        return Err(vec![file_error(file, Some(e.line()), message)]);
    }
    if let Some(at) = json::slash_escape(text) {
        let line = line_of(text, at);
        // The column of the `/`, where HCL v1 reports it.
        let column = text
            .get(..at)
            .and_then(|t| t.rsplit('\n').next())
            .map_or(0, |l| l.chars().count())
            + 2;
        let message = format!(
            "JSON syntax error at column {column}: illegal char escape \\/ (HCL v1 reads JSON strings with Go's escapes)"
        );
        return Err(vec![file_error(file, Some(line), message)]);
    }
    let Some(root) = json::parse(text) else {
        return Err(vec![file_error(file, None, "JSON syntax error".to_owned())]);
    };
    let line = |off: usize| Some(line_of(text, off));
    let json::J::Obj(top) = &root.value else {
        return Err(vec![file_error(
            file,
            line(root.offset),
            "a JSON config must be an object".to_owned(),
        )]);
    };
    let mut blocks = Vec::new();
    let mut errors = Vec::new();
    for (key, kms) in top.iter().filter(|(k, _)| k == "kms") {
        let items: Vec<&json::Spanned> = match &kms.value {
            // HCL v1's JSON flattening leaves an empty list as the value of a kms block,
            // which configutil refuses.
            json::J::Arr(a) if a.is_empty() => {
                let message =
                    format!("\"{key}\" is an empty list; Boundary wants objects keyed by type");
                errors.push(file_error(file, line(kms.offset), message));
                continue;
            }
            json::J::Arr(a) => a.iter().collect(),
            _ => vec![kms],
        };
        for item in items {
            let json::J::Obj(types) = &item.value else {
                let message = format!(
                    "\"{key}\" must hold objects keyed by type, e.g. {{\"TYPE\": {{...}}}}, not {}",
                    item.value.kind()
                );
                errors.push(file_error(file, line(item.offset), message));
                continue;
            };
            for (kind, body) in types {
                if let json::J::Arr(_) = &body.value {
                    // HCL v1's JSON flattening leaves such a list under a kms block of
                    // type "kms", which Boundary then refuses.
                    errors.push(ConfigError {
                        file: file.to_owned(),
                        line: line(body.offset),
                        block: Some(format!("kms \"{}\"", kind.to_ascii_lowercase())),
                        key: None,
                        message: "a list of stanzas under one type is not read by Boundary; \
                                  write {\"kms\": [{\"TYPE\": {...}}, {\"TYPE\": {...}}]}"
                            .to_owned(),
                    });
                    continue;
                }
                let b = body;
                let kind = kind.to_ascii_lowercase();
                match &b.value {
                    json::J::Obj(map) => {
                        let attrs = json_members(map);
                        blocks.push(RawBlock {
                            kind,
                            line: line(b.offset),
                            problems: Vec::new(),
                            attrs,
                        });
                    }
                    other => errors.push(ConfigError {
                        file: file.to_owned(),
                        line: line(b.offset),
                        block: Some(format!("kms \"{kind}\"")),
                        key: None,
                        message: format!("the stanza body must be an object, not {}", other.kind()),
                    }),
                }
            }
        }
    }
    Ok((blocks, errors))
}

/// An object's members as HCL v1 decodes them: a member given again replaces the earlier
/// value (a list appends to an earlier list), in the place of the first.
fn json_members(map: &[(String, json::Spanned)]) -> Vec<RawAttr> {
    let mut attrs: Vec<RawAttr> = Vec::new();
    for (k, v) in map {
        let value = v.value.to_val();
        match attrs.iter_mut().find(|a| a.key == *k) {
            Some(a) => {
                a.value = match (std::mem::replace(&mut a.value, Val::Other("")), value) {
                    (Val::List(mut old), Val::List(new)) => {
                        old.extend(new);
                        Val::List(old)
                    }
                    (_, new) => new,
                }
            }
            None => attrs.push(RawAttr {
                key: k.clone(),
                value,
            }),
        }
    }
    attrs
}

/// serde_json's message without its " at line L column C" suffix (the line is reported apart).
fn json_error_text(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> RawBlock {
        let (mut b, e) = parse_hcl(text, "t.hcl").unwrap_or_else(|e| panic!("{e:?}"));
        assert!(e.is_empty());
        assert_eq!(b.len(), 1);
        b.remove(0)
    }

    #[test]
    fn values_as_hcl_v1_reads_them() {
        let b = one(
            "kms \"DEMO\" { a = -5 b = 0x1F\n  c = 017, d = \"${x}\"\n  e = <<-EOT\n    hi\n    EOT\n  f = [1, \"s\", true]\n  g = 1.50\n  h = { x = 1 }\n  \"a\" = \"again\"\n  j = \"\\u00e9\\t\"\n}\n",
        );
        assert_eq!(b.kind, "demo");
        assert_eq!(b.line, Some(1));
        let v: Vec<_> = b
            .attrs
            .iter()
            .map(|a| (a.key.as_str(), a.value.clone()))
            .collect();
        // `a` is an int, so the string written again under `"a"` must read as one.
        assert_eq!(
            v[0],
            ("a", Val::Other("a number out of range or malformed"))
        );
        assert_eq!(v[1], ("b", Val::Num("31".into())));
        assert_eq!(v[2], ("c", Val::Num("15".into())));
        assert_eq!(v[3], ("d", Val::Str("${x}".into())));
        assert_eq!(v[4], ("e", Val::Str("hi\n".into())));
        assert_eq!(
            v[5].1,
            Val::List(vec![
                Val::Num("1".into()),
                Val::Str("s".into()),
                Val::Bool(true)
            ])
        );
        assert_eq!(v[6].1, Val::Num("1.5".into()));
        assert_eq!(v[7].1, Val::Other("an object"));
        assert_eq!(v[8].1, Val::Str("é\t".into()));
        assert_eq!(v.len(), 9);
    }

    #[test]
    fn what_hcl_v1_rejects_anywhere() {
        for bad in [
            "listener \"tcp\" { address = var.x }\n",
            "a = file(\"x\")\n",
            "a = 1 + 2\n",
            "a = \"x\"\na = \"y\"\n",
            "a = null\n",
            "a = 089\n",
            "kms \"demo\" = { }\n",
            "x { y = \"\\q\" }\n",
            "\"\\777\" = 1\n",
        ] {
            let e = parse_hcl(bad, "t.hcl").err().unwrap_or_default();
            assert_eq!(e.len(), 1, "{bad:?}");
            assert!(
                e[0].message.starts_with("HCL syntax error at column"),
                "{e:?}"
            );
        }
        // Hostile nesting is an error, not a stack overflow.
        for deep in [
            "x = ".to_owned() + &"[".repeat(100_000),
            "a { ".repeat(100_000),
        ] {
            let e = parse_hcl(&deep, "t.hcl").err().unwrap_or_default();
            assert!(e[0].message.contains("levels deep"), "{e:?}");
        }
        // KMS in any case is a kms block; a trailing `key =` at the end is dropped, as in Go.
        let (b, _) = parse_hcl("KMS demo { purpose = \"root\" }\nx =", "t.hcl").unwrap_or_default();
        assert_eq!(b.len(), 1);
        // Text that starts with `{` is JSON.
        let (b, _) = parse_hcl(" {\"kms\": {\"demo\": {}}}", "t.hcl").unwrap_or_default();
        assert_eq!(b.len(), 1);
    }

    #[test]
    fn syntax_error_has_its_line_and_no_input_text() {
        let e = parse_hcl("a = 1\nkms \"demo\" {\n  key = \"CANARY\n}\n", "t.hcl")
            .err()
            .unwrap_or_default();
        assert_eq!(e.len(), 1);
        assert!(e[0].line.is_some());
        assert!(!e[0].message.contains("CANARY"), "{}", e[0].message);
        for text in [
            "kms \"demo\" {\n  key = CANARY\n}\n",
            "kms \"demo\" {\n  key = \"x\"\n  CANARY\n}\n",
            "kms \"demo\" {\n  key = \"CANARY\\q\"\n}\n",
            "kms \"demo\" {\n  key = <<EOF CANARY\nx\nEOF\n}\n",
        ] {
            let e = parse_hcl(text, "t.hcl").err().unwrap_or_default();
            assert_eq!(e.len(), 1, "{text:?}");
            assert!(!e[0].to_string().contains("CANARY"), "{}", e[0]);
        }
    }

    #[test]
    fn json_shapes_and_lines() {
        let text = "{\n \"listener\": [{\"tcp\": {}}],\n \"kms\": [\n  {\"demo\": {\"purpose\": \"root\"}},\n  {\"other\": [{\"purpose\": \"x\"}, {\"purpose\": \"y\"}]}\n ]\n}";
        let (b, _) = parse_json(text, "t.json").unwrap_or_default();
        let got: Vec<_> = b.iter().map(|b| (b.kind.as_str(), b.line)).collect();
        assert_eq!(got, [("demo", Some(4))]);
        let (_, e) = parse_json(text, "t.json").unwrap_or_default();
        assert_eq!(e.len(), 1);
        assert!(
            e[0].message.contains("list of stanzas under one type"),
            "{e:?}"
        );
        assert_eq!(e[0].line, Some(5));
        let (b, _) = parse_json("{\"kms\": {\"DEMO\": {\"purpose\": [\"root\"]}}}", "t.json")
            .unwrap_or_default();
        assert_eq!(b[0].kind, "demo");
        assert_eq!(
            b[0].attrs[0].value,
            Val::List(vec![Val::Str("root".into())])
        );
        let (b, e) = parse_json("{\"kms\": [1, {\"demo\": 2}, {\"demo\": {}}]}", "t.json")
            .unwrap_or_default();
        assert_eq!((b.len(), e.len()), (1, 2));
        let e = parse_json("{\"kms\": [}", "t.json")
            .err()
            .unwrap_or_default();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].line, Some(1));
        // Text that does not start with `{` is HCL, as hcl.Parse decides.
        let e = parse_json("[]", "t.json").err().unwrap_or_default();
        assert!(e[0].message.starts_with("HCL syntax error"), "{e:?}");
        let (b, _) =
            parse_json("kms \"demo\" { purpose = \"root\" }", "t.json").unwrap_or_default();
        assert_eq!(b.len(), 1);
        let e = parse_json("{\"kms\": {\"demo\": {\"key_id\": \"a\\/b\"}}}", "t.json")
            .err()
            .unwrap_or_default();
        assert!(e[0].message.contains("illegal char escape"), "{e:?}");
        let (b, _) = parse_json(
            "{\"kms\": {\"demo\": {\"a\": 1e3, \"b\": 1.0, \"c\": null, \"d\": [\"x\", true], \"e\": 99999999999999999999}}}",
            "t.json",
        )
        .unwrap_or_default();
        let v: Vec<Val> = b[0].attrs.iter().map(|a| a.value.clone()).collect();
        assert_eq!(
            v,
            [
                Val::Num("1000".into()),
                Val::Num("1".into()),
                Val::Str(String::new()),
                Val::List(vec![Val::Str("x".into())]),
                Val::Other("a number out of range"),
            ]
        );
    }
}
