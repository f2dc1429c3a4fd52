//! Rendering a generated config in HCL v1's JSON form, in each of its shapes.

use super::{Block, Model, Rng, Value};

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

fn value(r: &mut Rng, v: &Value) -> String {
    match v {
        Value::Str(s) => quote(s),
        Value::Raw { hcl, json } => json.clone().unwrap_or_else(|| quote(hcl)),
        Value::Num(n) => {
            if n.starts_with("0x") || (n.len() > 1 && n.starts_with('0') && !n.contains('.')) {
                quote(n)
            } else {
                n.clone()
            }
        }
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_owned(),
        Value::List(items) => {
            let inner: Vec<String> = items.iter().map(|i| value(r, i)).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Obj(members) => object(r, members),
        Value::Heredoc { body, .. } => quote(body),
    }
}

fn object(r: &mut Rng, members: &[(String, Value)]) -> String {
    let inner: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("{}: {}", quote(k), value(r, v)))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// `{"TYPE": BODY}` or, with extra labels, `{"TYPE": {"LABEL": BODY}}`.
fn labelled(r: &mut Rng, b: &Block) -> String {
    let mut body = object(r, &b.attrs);
    for l in b.labels.iter().skip(1).rev() {
        body = format!("{{{}: {body}}}", quote(l));
    }
    match b.labels.first() {
        Some(t) => format!("{}: {body}", quote(t)),
        None => format!("\"\": {body}"),
    }
}

pub(super) fn render(r: &mut Rng, m: &Model) -> String {
    let mut top: Vec<String> = Vec::new();
    if r.pct(30) {
        top.push("\"disable_mlock\": true".to_owned());
    }
    // Blocks grouped by keyword, each group in one of JSON's shapes.
    let mut keywords: Vec<&str> = Vec::new();
    for b in &m.blocks {
        if !keywords.contains(&b.keyword.as_str()) {
            keywords.push(&b.keyword);
        }
    }
    for kw in keywords {
        let blocks: Vec<&Block> = m.blocks.iter().filter(|b| b.keyword == kw).collect();
        let shape = r.below(10);
        let types_distinct = {
            let mut t: Vec<_> = blocks.iter().map(|b| b.labels.first()).collect();
            t.sort();
            t.dedup();
            t.len() == blocks.len()
        };
        let group = if shape < 5 || !types_distinct && shape < 8 {
            // "kms": [{"aead": {...}}, {"awskms": {...}}]
            let items: Vec<String> = blocks
                .iter()
                .map(|b| format!("{{{}}}", labelled(r, b)))
                .collect();
            format!("[{}]", items.join(", "))
        } else if shape < 8 {
            // "kms": {"aead": {...}, "awskms": {...}}
            let items: Vec<String> = blocks.iter().map(|b| labelled(r, b)).collect();
            format!("{{{}}}", items.join(", "))
        } else {
            // "kms": {"aead": [{...}, {...}]}: each type's bodies in a list.
            let mut types: Vec<&String> = Vec::new();
            for b in &blocks {
                if let Some(t) = b.labels.first() {
                    if !types.contains(&t) {
                        types.push(t);
                    }
                }
            }
            let items: Vec<String> = types
                .iter()
                .map(|t| {
                    let bodies: Vec<String> = blocks
                        .iter()
                        .filter(|b| b.labels.first() == Some(t))
                        .map(|b| object(r, &b.attrs))
                        .collect();
                    format!("{}: [{}]", quote(t), bodies.join(", "))
                })
                .collect();
            format!("{{{}}}", items.join(", "))
        };
        top.push(format!("{}: {group}", quote(kw)));
    }
    if r.pct(5) {
        top.push("\"kms\": []".to_owned());
    }
    let sep = if r.pct(50) { ",\n  " } else { ", " };
    format!("{{\n  {}\n}}\n", top.join(sep))
}
