//! Syntax: HCL v1 (`crate::hclv1`, Boundary's reader) or JSON, into raw `kms` blocks. Every
//! other top-level block and attribute is ignored, once the whole file has parsed.

use crate::error::ConfigError;
use crate::hclv1::{self, Item, Node};

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

/// The top-level blocks configutil reads as kms blocks, in the order it reads them.
pub(crate) const BLOCK_NAMES: [&str; 3] = ["hsm", "seal", "kms"];

/// One `kms "TYPE" { ... }` block (or `seal`, `hsm`), untyped.
#[derive(Debug, Clone)]
pub(crate) struct RawBlock {
    /// `kms`, `seal` or `hsm`.
    pub(crate) block: &'static str,
    /// Lower-cased first label; without one, the block's name, as configutil takes it.
    pub(crate) kind: String,
    /// 1-based line of the block.
    pub(crate) line: Option<usize>,
    /// Problems found while reading the block's syntax (nested blocks, bad labels), as
    /// (key, message).
    pub(crate) problems: Vec<(Option<String>, String)>,
    /// What Boundary accepts but ignores in the block's shape (extra labels).
    pub(crate) warnings: Vec<String>,
    pub(crate) attrs: Vec<RawAttr>,
}

/// Which of [`BLOCK_NAMES`] a top-level key is, in any case (HCL v1's `Filter`).
fn block_name(key: &str) -> Option<&'static str> {
    BLOCK_NAMES
        .into_iter()
        .find(|n| key.eq_ignore_ascii_case(n))
}

/// Blocks in configutil's order: every `hsm`, then every `seal`, then every `kms`.
fn in_configutil_order(mut blocks: Vec<RawBlock>) -> Vec<RawBlock> {
    blocks.sort_by_key(|b| BLOCK_NAMES.iter().position(|n| *n == b.block));
    blocks
}

/// The raw blocks of a file and the problems found in its shape; or, for a syntax error,
/// that one problem.
pub(crate) type Parsed = Result<(Vec<RawBlock>, Vec<ConfigError>), Vec<ConfigError>>;

fn file_error(file: &str, line: Option<usize>, message: String) -> ConfigError {
    ConfigError {
        file: file.to_owned(),
        line,
        block: None,
        key: None,
        message,
    }
}

/// Reads the `kms` blocks of a config, as `hcl.Parse` and configutil do: text whose first
/// non-blank character is `{` is JSON (HCL v1's lenient JSON reader), anything else HCL v1;
/// a top-level item whose key is `kms`, `seal` or `hsm` (in any case) is a kms block. A
/// syntax error anywhere in the file is the one problem reported.
pub(crate) fn parse_hcl(text: &str, file: &str) -> Parsed {
    let json = text.trim_start().starts_with('{');
    let items = if json {
        hclv1::parse_json(text)
    } else {
        hclv1::parse(text)
    }
    .map_err(|e| {
        let syntax = if json { "JSON" } else { "HCL" };
        let message = format!(
            "{syntax} syntax error at column {}: {}",
            e.pos.col, e.message
        );
        vec![file_error(file, Some(e.pos.line), message)]
    })?;
    let blocks = items
        .iter()
        .filter_map(|i| {
            let name = block_name(&hclv1::key_value(i.keys.first()?))?;
            Some(hcl_block(i, name))
        })
        .collect();
    Ok((in_configutil_order(blocks), Vec::new()))
}

/// A JSON config: read as HCL v1 reads any config, by its text.
pub(crate) fn parse_json(text: &str, file: &str) -> Parsed {
    parse_hcl(text, file)
}

fn hcl_block(item: &Item, block: &'static str) -> RawBlock {
    // The type label's line: in JSON, blocks share their `kms` key.
    let line = item.keys.get(1).or(item.keys.first()).map(|k| k.pos.line);
    let labels = item.keys.get(1..).unwrap_or(&[]);
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let kind = match labels.first() {
        Some(label) => hclv1::key_value(label).to_lowercase(),
        None => block.to_owned(),
    };
    if labels.len() > 1 {
        warnings.push(format!(
            "has {} labels; Boundary reads the first as the type and ignores the others",
            labels.len()
        ));
    }
    let attrs = match &item.val {
        Node::Obj(body, _) => hclv1::decode_body(body)
            .into_iter()
            .map(|(key, value)| RawAttr { key, value })
            .collect(),
        _ => {
            problems.push((
                None,
                format!("a {block} block must be a block, {block} \"TYPE\" {{ ... }}, not a value"),
            ));
            Vec::new()
        }
    };
    RawBlock {
        block,
        kind,
        line,
        problems,
        warnings,
        attrs,
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
    fn json_as_hcl_v1_reads_it() {
        let text = "{\n \"listener\": [{\"tcp\": {}}],\n \"kms\": [\n  {\"demo\": {\"purpose\": \"root\"}},\n  {\"other\": {\"purpose\": \"x\"}}\n ]\n}";
        let (b, _) = parse_json(text, "t.json").unwrap_or_default();
        let got: Vec<_> = b.iter().map(|b| (b.kind.as_str(), b.line)).collect();
        assert_eq!(got, [("demo", Some(4)), ("other", Some(5))]);
        let (b, _) = parse_json("{\"KMS\": {\"DEMO\": {\"purpose\": [\"root\"]}}}", "t.json")
            .unwrap_or_default();
        assert_eq!(b[0].kind, "demo");
        assert_eq!(
            b[0].attrs[0].value,
            Val::List(vec![Val::Str("root".into())])
        );
        // As in Go, an error at a `}` closes the object: `{"kms": [}` is accepted.
        assert!(parse_json("{\"kms\": [}", "t.json").is_ok());
        let e = parse_json("{\"kms\": [null]}", "t.json")
            .err()
            .unwrap_or_default();
        assert_eq!(e.len(), 1);
        assert!(e[0].message.starts_with("JSON syntax error"), "{e:?}");
        // Text that does not start with `{` is HCL, as hcl.Parse decides.
        let e = parse_json("[]", "t.json").err().unwrap_or_default();
        assert!(e[0].message.starts_with("HCL syntax error"), "{e:?}");
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
                Val::Other("a number out of range or malformed"),
            ]
        );
    }
}
