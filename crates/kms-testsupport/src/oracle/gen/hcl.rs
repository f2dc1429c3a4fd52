//! Rendering a generated config as HCL v1, with the layout varied by the generator.

use super::{Block, Model, Rng, Value};

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

fn comment(r: &mut Rng) -> &'static str {
    r.pick(&[
        "# a comment",
        "// a comment",
        "/* a comment */",
        "/* two\n   lines */",
    ])
}

pub(super) fn value(r: &mut Rng, v: &Value) -> String {
    match v {
        Value::Str(s) => quote(s),
        Value::Raw { hcl, .. } => hcl.clone(),
        Value::Num(n) => n.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_owned(),
        Value::List(items) => {
            let sep = r.pick(&[", ", ",", ",\n  "]);
            let trailing = if !items.is_empty() && r.pct(15) {
                ","
            } else {
                ""
            };
            let inner: Vec<String> = items.iter().map(|i| value(r, i)).collect();
            format!("[{}{trailing}]", inner.join(sep))
        }
        Value::Obj(members) => {
            let inner: Vec<String> = members
                .iter()
                .map(|(k, v)| format!("{k} = {}", value(r, v)))
                .collect();
            format!("{{ {} }}", inner.join("\n"))
        }
        Value::Heredoc { body, indented } => {
            let anchor = r.pick(&["EOF", "EOT", "KEY"]);
            if *indented {
                let body: Vec<String> = body.lines().map(|l| format!("    {l}")).collect();
                format!("<<-{anchor}\n{}\n  {anchor}", body.join("\n"))
            } else {
                format!("<<{anchor}\n{body}\n{anchor}")
            }
        }
    }
}

fn key(r: &mut Rng, k: &str) -> String {
    if r.pct(5) {
        format!("\"{k}\"")
    } else {
        k.to_owned()
    }
}

fn block(r: &mut Rng, b: &Block) -> String {
    let mut head = b.keyword.clone();
    for l in &b.labels {
        if r.pct(6) && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            head.push(' ');
            head.push_str(l);
        } else {
            head.push(' ');
            head.push_str(&quote(l));
        }
    }
    if r.pct(2) {
        head.push_str(" =");
    }
    let attrs: Vec<String> = b
        .attrs
        .iter()
        .map(|(k, v)| {
            let eq = r.pick(&[" = ", "=", "  =  ", " = "]);
            let mut a = format!("{}{eq}{}", key(r, k), value(r, v));
            if r.pct(4) {
                a = format!("{} {a}", r.pick(&["/* c */", "/*c*/"]));
            }
            a
        })
        .collect();
    let one_line = r.pct(12)
        && !b
            .attrs
            .iter()
            .any(|(_, v)| matches!(v, Value::Heredoc { .. }));
    if one_line || attrs.is_empty() {
        let sep = r.pick(&[" ", ", ", " "]);
        format!("{head} {{ {} }}\n", attrs.join(sep))
    } else {
        let mut out = format!("{head} {{\n");
        let mut i = 0;
        while i < attrs.len() {
            if r.pct(6) {
                out.push_str("  ");
                out.push_str(comment(r));
                out.push('\n');
            }
            out.push_str("  ");
            out.push_str(&attrs[i]);
            // Sometimes the next attribute on the same line.
            if i + 1 < attrs.len() && r.pct(6) && !matches!(b.attrs[i].1, Value::Heredoc { .. }) {
                out.push_str(r.pick(&[" ", ", "]));
                i += 1;
                out.push_str(&attrs[i]);
            }
            if r.pct(5) && !matches!(b.attrs[i].1, Value::Heredoc { .. }) {
                out.push_str(r.pick(&[" # trailing", " // trailing", " /* trailing */", ","]));
            }
            out.push('\n');
            i += 1;
        }
        out.push_str("}\n");
        out
    }
}

pub(super) fn render(r: &mut Rng, m: &Model) -> String {
    let mut out = String::new();
    if r.pct(60) {
        out.push_str(comment(r));
        out.push('\n');
    }
    for n in &m.noise {
        out.push_str(n);
    }
    for b in &m.blocks {
        if r.pct(5) {
            out.push_str(comment(r));
            out.push('\n');
        }
        out.push_str(&block(r, b));
    }
    if r.pct(3) {
        out = out.replace('\n', "\r\n");
    }
    out
}
