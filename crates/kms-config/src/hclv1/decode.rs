//! How configutil sees a `kms` block's body: `hcl.DecodeObject` into a
//! `map[string]interface{}` (hcl's `decoder.go`). Numbers become Go ints (hex and octal
//! read) or floats; a key written again (`a` and `"a"`, which the parser's duplicate check
//! tells apart) is decoded into the value already there, typed by it: a string takes the
//! new text, lists append, and a value of another type is an error. A nested block is a
//! list of objects, which no kms setting takes.

use super::lexer::{Kind, Token};
use super::strconv::{go_unquote, heredoc_value, unquote};
use super::{Item, Node};
use crate::raw::Val;

/// A value as Go holds it after decoding.
#[derive(Debug, Clone, PartialEq)]
enum GoVal {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    List(Vec<GoVal>),
    /// An object or block, or a value Go fails to decode, by description.
    Other(&'static str),
}

const BAD_NUMBER: &str = "a number out of range or malformed";
const CLASH: &str = "a value set twice with different types";

impl GoVal {
    fn into_val(self) -> Val {
        match self {
            GoVal::Str(s) => Val::Str(s),
            GoVal::Int(i) => Val::Num(i.to_string()),
            // Rust prints the shortest text that reads back, without exponent: Go's
            // FormatFloat(f, 'f', -1, 64), which configutil's string conversion uses.
            GoVal::Float(f) => Val::Num(format!("{f}")),
            GoVal::Bool(b) => Val::Bool(b),
            GoVal::List(l) => Val::List(l.into_iter().map(GoVal::into_val).collect()),
            GoVal::Other(d) => Val::Other(d),
        }
    }
}

/// A key token's text: an identifier as written, a string unquoted.
pub(crate) fn key_value(t: &Token) -> String {
    match t.kind {
        Kind::String => unquote(&t.text).unwrap_or_default(),
        Kind::JsonString => go_unquote(&t.text).unwrap_or_default(),
        _ => t.text.clone(),
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)` for the forms HCL v1's scanner writes: decimal,
/// `0x` hex and `0` octal, with a sign.
fn go_int(s: &str) -> Option<i64> {
    let (neg, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (digits, radix) =
        if let Some(h) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
            (h, 16)
        } else if rest.len() > 1 && rest.starts_with('0') {
            (&rest[1..], 8)
        } else {
            (rest, 10)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i128::from(u64::from_str_radix(digits, radix).ok()?);
    i64::try_from(if neg { -v } else { v }).ok()
}

fn go_float(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

fn lit_str(t: &Token) -> GoVal {
    match t.kind {
        Kind::Heredoc => GoVal::Str(heredoc_value(&t.text)),
        Kind::JsonString => {
            go_unquote(&t.text).map_or(GoVal::Other("a string with an invalid escape"), GoVal::Str)
        }
        _ => unquote(&t.text).map_or(GoVal::Other("a string with an invalid escape"), GoVal::Str),
    }
}

/// A value decoded into an empty `interface{}`.
fn fresh(n: &Node) -> GoVal {
    match n {
        Node::Lit(t) => match t.kind {
            Kind::Bool => GoVal::Bool(t.text == "true"),
            Kind::Number => go_int(&t.text).map_or(GoVal::Other(BAD_NUMBER), GoVal::Int),
            Kind::Float => go_float(&t.text).map_or(GoVal::Other(BAD_NUMBER), GoVal::Float),
            _ => lit_str(t),
        },
        Node::List(l, _) => GoVal::List(l.iter().map(fresh).collect()),
        Node::Obj(..) => GoVal::Other("an object"),
    }
}

/// A value decoded into the one already there.
fn into(old: GoVal, n: &Node) -> GoVal {
    let lit = match n {
        Node::Lit(t) => Some(t),
        _ => None,
    };
    let kind = lit.map(|t| t.kind);
    match (old, lit) {
        (GoVal::Str(_), Some(t)) if t.kind == Kind::Number => GoVal::Str(t.text.clone()),
        (GoVal::Str(_), Some(t))
            if matches!(t.kind, Kind::String | Kind::JsonString | Kind::Heredoc) =>
        {
            lit_str(t)
        }
        (GoVal::Int(_), Some(t)) if t.kind == Kind::Number => {
            go_int(&t.text).map_or(GoVal::Other(BAD_NUMBER), GoVal::Int)
        }
        (GoVal::Int(_), Some(t)) if matches!(t.kind, Kind::String | Kind::JsonString) => {
            match lit_str(t) {
                GoVal::Str(s) => go_int(&s).map_or(GoVal::Other(BAD_NUMBER), GoVal::Int),
                other => other,
            }
        }
        (GoVal::Float(_), Some(t)) if matches!(t.kind, Kind::Number | Kind::Float) => {
            go_float(&t.text).map_or(GoVal::Other(BAD_NUMBER), GoVal::Float)
        }
        (GoVal::Bool(_), Some(t)) if t.kind == Kind::Bool => GoVal::Bool(t.text == "true"),
        (GoVal::List(mut l), None) => {
            match n {
                Node::List(items, _) => l.extend(items.iter().map(fresh)),
                _ => l.push(GoVal::Other("an object")),
            }
            GoVal::List(l)
        }
        (GoVal::Other(d), _) if kind.is_none() => GoVal::Other(d),
        _ => GoVal::Other(CLASH),
    }
}

/// A kms block's body as configutil's map sees it: each key once, in the order first
/// written, with its decoded value.
pub(crate) fn decode_body(items: &[Item]) -> Vec<(String, Val)> {
    let mut out: Vec<(String, GoVal)> = Vec::new();
    // Indexes into `out` and the keys seen as nested blocks: linear time in the items.
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut blocks: std::collections::HashSet<String> = std::collections::HashSet::new();
    for item in items {
        let Some(first) = item.keys.first() else {
            continue;
        };
        let key = key_value(first);
        if blocks.contains(&key) {
            continue;
        }
        let block = item.keys.len() > 1 || (!item.assign && matches!(item.val, Node::Obj(..)));
        if item.keys.len() > 1 {
            blocks.insert(key.clone());
        }
        let slot = index.get(&key).copied();
        let value = match (block, slot) {
            (true, _) => GoVal::Other("a nested block"),
            (false, Some(i)) => into(out[i].1.clone(), &item.val),
            (false, None) => fresh(&item.val),
        };
        match slot {
            Some(i) => out[i].1 = value,
            None => {
                index.insert(key.clone(), out.len());
                out.push((key, value));
            }
        }
    }
    out.into_iter().map(|(k, v)| (k, v.into_val())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_numbers() {
        assert_eq!(go_int("0x1F"), Some(31));
        assert_eq!(go_int("-010"), Some(-8));
        assert_eq!(go_int("09"), None);
        assert_eq!(go_int("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(go_int("9223372036854775808"), None);
        assert_eq!(go_float("1e400"), None);
        assert_eq!(
            GoVal::Float(1e21).into_val(),
            Val::Num("1000000000000000000000".into())
        );
        assert_eq!(GoVal::Float(0.5).into_val(), Val::Num("0.5".into()));
    }

    #[test]
    fn repeated_keys() {
        let items = crate::hclv1::parse(
            "a = \"x\"\n\"a\" = 2\nl = [1]\n\"l\" = [\"y\"]\nb = true\n\"b\" = \"s\"\nn { }\nn { }\n",
        )
        .unwrap_or_default();
        let got = decode_body(&items);
        assert_eq!(got[0], ("a".into(), Val::Str("2".into())));
        assert_eq!(
            got[1],
            (
                "l".into(),
                Val::List(vec![Val::Num("1".into()), Val::Str("y".into())])
            )
        );
        assert_eq!(got[2], ("b".into(), Val::Other(CLASH)));
        assert_eq!(got[3], ("n".into(), Val::Other("a nested block")));
        assert_eq!(got.len(), 4);
    }
}
