//! Syntax: HCL (hcl-edit, for positions) or JSON, into raw `kms` blocks. Every other
//! top-level block and attribute is ignored.

use hcl::edit::structure::{Block, BlockLabel, Body};
use hcl::edit::Span;

use crate::error::{ConfigError, ConfigErrors};

/// A value as written, before typing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Str(String),
    Bool(bool),
    Num(String),
    List(Vec<Val>),
    /// Anything else (objects, null, expressions that do not evaluate), by description.
    Other(&'static str),
}

impl Val {
    pub(crate) fn describe(&self) -> String {
        match self {
            Val::Str(_) => "a string".into(),
            Val::Bool(b) => format!("the bool {b}"),
            Val::Num(n) => format!("the number {n}"),
            Val::List(_) => "a list".into(),
            Val::Other(d) => (*d).into(),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct RawAttr {
    pub(crate) key: String,
    pub(crate) value: Val,
}

#[derive(Debug, Clone)]
pub(crate) struct RawBlock {
    /// Lower-cased type label.
    pub(crate) kind: String,
    /// 1-based line, for HCL.
    pub(crate) line: Option<usize>,
    /// Problems found while reading the block's syntax (nested blocks, bad labels).
    pub(crate) problems: Vec<(Option<String>, String)>,
    pub(crate) attrs: Vec<RawAttr>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

pub(crate) fn parse_hcl(text: &str, file: &str) -> Result<Vec<RawBlock>, ConfigErrors> {
    let body: Body = hcl::edit::parser::parse_body(text).map_err(|e| {
        let loc = e.location();
        ConfigErrors(vec![ConfigError {
            file: file.to_owned(),
            line: Some(loc.line()),
            block: None,
            key: None,
            message: format!("HCL syntax error at column {}: {}", loc.column(), e.message().replace('\n', " ")),
        }])
    })?;
    let mut out = Vec::new();
    for structure in body.iter() {
        let Some(block) = structure.as_block() else { continue };
        if block.ident.as_str() != "kms" {
            continue;
        }
        out.push(hcl_block(text, block));
    }
    Ok(out)
}

fn hcl_block(text: &str, block: &Block) -> RawBlock {
    let line = block.span().map(|s| line_of(text, s.start));
    let mut problems = Vec::new();
    let kind = match block.labels.as_slice() {
        [label] => label_str(label).to_ascii_lowercase(),
        [] => {
            problems.push((None, "a kms block needs a type label, e.g. kms \"aead\" { ... }".to_owned()));
            String::new()
        }
        [first, ..] => {
            problems.push((None, format!("a kms block takes one label, the type; got {}", block.labels.len())));
            label_str(first).to_ascii_lowercase()
        }
    };
    let mut attrs = Vec::new();
    for s in block.body.iter() {
        if let Some(a) = s.as_attribute() {
            let expr: hcl::Expression = a.value.clone().into();
            attrs.push(RawAttr { key: a.key.as_str().to_owned(), value: eval(&expr) });
        } else if let Some(b) = s.as_block() {
            problems.push((Some(b.ident.as_str().to_owned()), "unexpected nested block in a kms stanza".to_owned()));
        }
    }
    RawBlock { kind, line, problems, attrs }
}

fn label_str(label: &BlockLabel) -> &str {
    match label {
        BlockLabel::Ident(i) => i.as_str(),
        BlockLabel::String(s) => s.as_str(),
    }
}

fn eval(expr: &hcl::Expression) -> Val {
    use hcl::eval::Evaluate;
    match expr.evaluate(&hcl::eval::Context::new()) {
        Ok(v) => from_hcl_value(&v),
        Err(_) => Val::Other("an expression that cannot be evaluated (variables and functions are not supported)"),
    }
}

fn from_hcl_value(v: &hcl::Value) -> Val {
    match v {
        hcl::Value::String(s) => Val::Str(s.clone()),
        hcl::Value::Bool(b) => Val::Bool(*b),
        hcl::Value::Number(n) => Val::Num(n.to_string()),
        hcl::Value::Array(a) => Val::List(a.iter().map(from_hcl_value).collect()),
        hcl::Value::Null => Val::Other("null"),
        hcl::Value::Object(_) => Val::Other("an object"),
    }
}

fn from_json(v: &serde_json::Value) -> Val {
    match v {
        serde_json::Value::String(s) => Val::Str(s.clone()),
        serde_json::Value::Bool(b) => Val::Bool(*b),
        serde_json::Value::Number(n) => Val::Num(n.to_string()),
        serde_json::Value::Array(a) => Val::List(a.iter().map(from_json).collect()),
        serde_json::Value::Null => Val::Other("null"),
        serde_json::Value::Object(_) => Val::Other("an object"),
    }
}

/// JSON configs, in the shapes Boundary's HCL v1 reader accepts:
/// `{"kms": [{"aead": {...}}, {"awskms": {...}}]}`, `{"kms": {"aead": {...}}}`, and a list
/// of bodies under one type, `{"kms": {"aead": [{...}, {...}]}}`.
pub(crate) fn parse_json(text: &str, file: &str) -> Result<Vec<RawBlock>, ConfigErrors> {
    let err = |line: Option<usize>, message: String| ConfigErrors(vec![ConfigError { file: file.to_owned(), line, block: None, key: None, message }]);
    let root: serde_json::Value =
        serde_json::from_str(text).map_err(|e| err(Some(e.line()), format!("JSON syntax error at column {}: {e}", e.column())))?;
    let Some(obj) = root.as_object() else {
        return Err(err(None, "a JSON config must be an object".into()));
    };
    let mut out = Vec::new();
    let Some(kms) = obj.get("kms") else { return Ok(out) };
    let push_typed = |kind: &str, body: &serde_json::Value, out: &mut Vec<RawBlock>| -> Result<(), ConfigErrors> {
        let bodies: Vec<&serde_json::Value> = match body {
            serde_json::Value::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        for b in bodies {
            let Some(map) = b.as_object() else {
                return Err(err(None, format!("kms \"{kind}\": the stanza body must be an object")));
            };
            let attrs = map.iter().map(|(k, v)| RawAttr { key: k.clone(), value: from_json(v) }).collect();
            out.push(RawBlock { kind: kind.to_ascii_lowercase(), line: None, problems: Vec::new(), attrs });
        }
        Ok(())
    };
    let items: Vec<&serde_json::Value> = match kms {
        serde_json::Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    for item in items {
        let Some(map) = item.as_object() else {
            return Err(err(None, "\"kms\" must hold objects keyed by type, e.g. {\"aead\": {...}}".into()));
        };
        for (kind, body) in map {
            push_typed(kind, body, &mut out)?;
        }
    }
    Ok(out)
}
