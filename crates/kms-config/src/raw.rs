//! Syntax: HCL (hcl-edit, for positions) or JSON, into raw `kms` blocks. Every other
//! top-level block and attribute is ignored.
//!
//! Values are read, not evaluated: literals, lists, parentheses, negative numbers and
//! heredocs without interpolation. Variables, functions, operators and `${...}` templates
//! are reported as values of an unsupported kind (Boundary reads HCL v1, which has none of
//! them, and evaluating them could panic inside the evaluator on inputs such as `1 % 0`).

use hcl_edit::expr::{Expression, UnaryOperator};
use hcl_edit::structure::{Block, BlockLabel, Body};
use hcl_edit::template::{Element, Template};
use hcl_edit::Span;

use crate::error::ConfigError;

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

/// Reads the `kms` blocks of an HCL file. A syntax error is the one problem reported.
pub(crate) fn parse_hcl(text: &str, file: &str) -> Parsed {
    let body: Body = hcl_edit::parser::parse_body(text).map_err(|e| {
        let loc = e.location();
        // The message never quotes the input, so it cannot show a secret.
        let message = format!(
            "HCL syntax error at column {}: {}",
            loc.column(),
            e.message().replace('\n', " ")
        );
        vec![file_error(file, Some(loc.line()), message)]
    })?;
    let blocks = body
        .iter()
        .filter_map(|s| s.as_block())
        .filter(|b| b.ident.as_str() == "kms")
        .map(|b| hcl_block(text, b))
        .collect();
    Ok((blocks, Vec::new()))
}

fn hcl_block(text: &str, block: &Block) -> RawBlock {
    let line = block.span().map(|s| line_of(text, s.start));
    let mut problems = Vec::new();
    let kind = match block.labels.as_slice() {
        [label] => label_str(label).to_ascii_lowercase(),
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
                    block.labels.len()
                ),
            ));
            label_str(first).to_ascii_lowercase()
        }
    };
    let mut attrs = Vec::new();
    for s in block.body.iter() {
        if let Some(a) = s.as_attribute() {
            attrs.push(RawAttr {
                key: a.key.as_str().to_owned(),
                value: eval(&a.value),
            });
        } else if let Some(b) = s.as_block() {
            problems.push((
                Some(b.ident.as_str().to_owned()),
                "unexpected nested block in a kms stanza".to_owned(),
            ));
        }
    }
    RawBlock {
        kind,
        line,
        problems,
        attrs,
    }
}

fn label_str(label: &BlockLabel) -> &str {
    match label {
        BlockLabel::Ident(i) => i.as_str(),
        BlockLabel::String(s) => s.as_str(),
    }
}

const EXPRESSION: &str = "an expression (variables, functions and operators are not supported)";

/// Reads a value without evaluating anything.
fn eval(expr: &Expression) -> Val {
    match expr {
        Expression::Null(_) => Val::Other("null"),
        Expression::Bool(b) => Val::Bool(*b.value()),
        Expression::Number(n) => Val::Num(n.value().to_string()),
        Expression::String(s) => Val::Str(s.value().clone()),
        Expression::Array(a) => Val::List(a.iter().map(eval).collect()),
        Expression::Object(_) => Val::Other("an object"),
        Expression::StringTemplate(t) => literal_template(t),
        Expression::HeredocTemplate(h) => literal_template(&h.template),
        Expression::Parenthesis(p) => eval(p.inner()),
        Expression::UnaryOp(op) if *op.operator.value() == UnaryOperator::Neg => {
            match eval(&op.expr) {
                Val::Num(n) if n.starts_with('-') => Val::Num(n[1..].to_owned()),
                Val::Num(n) => Val::Num(format!("-{n}")),
                _ => Val::Other(EXPRESSION),
            }
        }
        _ => Val::Other(EXPRESSION),
    }
}

/// A template of literal text only (a heredoc, or a string with escaped `$${`).
fn literal_template(t: &Template) -> Val {
    let mut out = String::new();
    for e in t.iter() {
        match e {
            Element::Literal(s) => out.push_str(s.value()),
            Element::Interpolation(_) | Element::Directive(_) => {
                return Val::Other(
                    "a template with ${...} or %{...} (interpolation is not supported)",
                )
            }
        }
    }
    Val::Str(out)
}

/// Reads the `kms` blocks of a JSON file, in the shapes Boundary's HCL v1 reader accepts:
/// `{"kms": [{"TYPE": {...}}, {"TYPE2": {...}}]}`, `{"kms": {"TYPE": {...}}}`, and a list
/// of bodies under one type, `{"kms": {"TYPE": [{...}, {...}]}}`.
///
/// A syntax error is the one problem reported; shape problems are all reported, and the
/// blocks that are well formed are still read.
pub(crate) fn parse_json(text: &str, file: &str) -> Parsed {
    // serde_json is the judge of syntax and gives the messages; json::parse adds positions.
    if let Err(e) = serde_json::from_str::<serde_json::Value>(text) {
        let message = format!(
            "JSON syntax error at column {}: {}",
            e.column(),
            json_error_text(&e)
        );
        return Err(vec![file_error(file, Some(e.line()), message)]);
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
                let bodies: Vec<&json::Spanned> = match &body.value {
                    json::J::Arr(a) => a.iter().collect(),
                    _ => vec![body],
                };
                for b in bodies {
                    let kind = kind.to_ascii_lowercase();
                    match &b.value {
                        json::J::Obj(map) => {
                            let attrs = map
                                .iter()
                                .map(|(k, v)| RawAttr {
                                    key: k.clone(),
                                    value: v.value.to_val(),
                                })
                                .collect();
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
                            message: format!(
                                "the stanza body must be an object, not {}",
                                other.kind()
                            ),
                        }),
                    }
                }
            }
        }
    }
    Ok((blocks, errors))
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
    fn values_are_read_not_evaluated() {
        let b = one(
            "kms \"DEMO\" {\n  a = -5\n  b = (\"x\")\n  c = 1 % 0\n  d = \"${x}\"\n  e = <<-EOT\n    hi\n    EOT\n  f = [1, \"s\", true]\n  g = null\n  h = { x = 1 }\n  i = 9999999999999 * 9999999999999\n  j = \"$${x}\"\n}\n",
        );
        assert_eq!(b.kind, "demo");
        assert_eq!(b.line, Some(1));
        let v: Vec<_> = b.attrs.iter().map(|a| a.value.clone()).collect();
        assert_eq!(v[0], Val::Num("-5".into()));
        assert_eq!(v[1], Val::Str("x".into()));
        assert!(matches!(v[2], Val::Other(_)));
        assert!(matches!(v[3], Val::Other(_)));
        assert_eq!(v[4], Val::Str("hi\n".into()));
        assert_eq!(
            v[5],
            Val::List(vec![
                Val::Num("1".into()),
                Val::Str("s".into()),
                Val::Bool(true)
            ])
        );
        assert_eq!(v[6], Val::Other("null"));
        assert_eq!(v[7], Val::Other("an object"));
        assert!(matches!(v[8], Val::Other(_)));
        assert_eq!(v[9], Val::Str("${x}".into()));
    }

    #[test]
    fn syntax_error_has_its_line_and_no_input_text() {
        let e = parse_hcl("a = 1\nkms \"demo\" {\n  key = \"CANARY\n}\n", "t.hcl")
            .err()
            .unwrap_or_default();
        assert_eq!(e.len(), 1);
        assert!(e[0].line.is_some());
        assert!(!e[0].message.contains("CANARY"), "{}", e[0].message);
    }

    #[test]
    fn json_shapes_and_lines() {
        let text = "{\n \"listener\": [{\"tcp\": {}}],\n \"kms\": [\n  {\"demo\": {\"purpose\": \"root\"}},\n  {\"other\": [{\"purpose\": \"x\"}, {\"purpose\": \"y\"}]}\n ]\n}";
        let (b, _) = parse_json(text, "t.json").unwrap_or_default();
        let got: Vec<_> = b.iter().map(|b| (b.kind.as_str(), b.line)).collect();
        assert_eq!(
            got,
            [("demo", Some(4)), ("other", Some(5)), ("other", Some(5))]
        );
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
        let e = parse_json("[]", "t.json").err().unwrap_or_default();
        assert!(e[0].message.contains("must be an object"));
    }
}
