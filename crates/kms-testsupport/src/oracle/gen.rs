//! A seeded, grammar-based generator of Boundary configs for differential fuzzing against the
//! oracle: kms, seal and hsm blocks of aead, awskms, unknown and other-plugin types, with
//! varied attribute spellings, value shapes (strings, escapes, numbers, bools, lists, objects,
//! heredocs, `${...}`, `env://` and `file://` texts), purposes, comments of all three styles,
//! one-line blocks, several attributes per line, duplicates and extra labels, in HCL and in
//! JSON. The same seed always gives the same config.
//!
//! Most configs are close to valid (keys valid base64 of 16, 24 or 32 bytes, known purposes),
//! so that the interesting rules are reached rather than the first syntax error.

/// Files a generated config may name with `file://` (relative to its directory); the caller
/// writes them beside it.
pub const AUX_FILES: &[(&str, &str)] = &[
    ("key.txt", "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE="),
    (
        "key_nl.txt",
        "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE=\n",
    ),
    ("ak.txt", "AKIDFROMFILE"),
    ("id.txt", "alias/from-file"),
];

/// A generated config.
#[derive(Debug, Clone)]
pub struct Case {
    /// `hcl` or `json`: the file's extension.
    pub ext: &'static str,
    /// The file's text.
    pub text: String,
}

/// SplitMix64: small, seedable, and the same on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `pct`%.
    pub fn pct(&mut self, pct: u32) -> bool {
        self.below(100) < pct as usize
    }

    /// One of `items`.
    pub fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }
}

/// The case of seed `seed`, number `index`: independent of every other case.
pub fn case(seed: u64, index: u64) -> Case {
    let mut r = Rng::new(seed ^ index.wrapping_mul(0xA24B_AED4_963E_E407));
    let _ = r.next_u64();
    let model = config(&mut r);
    if r.pct(18) {
        Case {
            ext: "json",
            text: json::render(&mut r, &model),
        }
    } else {
        let mut text = hcl::render(&mut r, &model);
        if r.pct(4) {
            text = mutate(&mut r, &text);
        }
        Case { ext: "hcl", text }
    }
}

/// A value in the abstract config.
#[derive(Debug, Clone)]
enum Value {
    Str(String),
    /// A literal spelled as given, in HCL (`hcl`) and JSON (`json`, else as a string).
    Raw {
        hcl: String,
        json: Option<String>,
    },
    Num(String),
    Bool(bool),
    List(Vec<Value>),
    Obj(Vec<(String, Value)>),
    Heredoc {
        body: String,
        indented: bool,
    },
    /// JSON `null` (HCL has none: rendered as a bare identifier).
    Null,
}

#[derive(Debug, Clone)]
struct Block {
    keyword: String,
    labels: Vec<String>,
    attrs: Vec<(String, Value)>,
}

#[derive(Debug, Clone)]
struct Model {
    /// Non-kms items before the blocks.
    noise: Vec<&'static str>,
    blocks: Vec<Block>,
}

const PURPOSES: &[&str] = &[
    "root",
    "previous-root",
    "recovery",
    "worker-auth",
    "worker-auth-storage",
    "downstream-worker-auth",
    "config",
    "bsr",
];

const KEYS_32: &[&str] = &[
    "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ=",
    "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE=",
    "d8p8F1KCBdo+dt02M0mFgA3017LmUgnz6wTEyLq88VY=",
    "c964AJj8VW8w4hKz/Jd8MvuLt0kkcjVuFqMiMvTvvN8=",
];
const KEYS_16: &[&str] = &["sP1fnF5Xz85RrXyELHFeZg==", "+X6g9tTn7TuXU7UGGfPKXw=="];
const KEYS_24: &[&str] = &["vVJ0PUdN3G2x9FEhHqNc7N1wdtlTk1yS"];

const NOISE: &[&str] = &[
    "disable_mlock = true\n",
    "listener \"tcp\" {\n  address = \"127.0.0.1:9200\"\n  purpose = \"api\"\n}\n",
    "controller {\n  name = \"c1\"\n  database { url = \"env://BOUNDARY_PG_URL\" }\n}\n",
    "worker { name = \"w1\" tags { type = [\"a\", \"b\"] } }\n",
    "events {\n  audit_enabled = true\n}\n",
    "plugins { execution_dir = \"/tmp\" }\n",
];

fn config(r: &mut Rng) -> Model {
    let mut noise = Vec::new();
    for _ in 0..r.below(3) {
        noise.push(r.pick(NOISE));
    }
    let n = match r.below(10) {
        0 => 0,
        1..=4 => 1,
        5..=7 => 2,
        8 => 3,
        _ => 4,
    };
    let mut used: Vec<&str> = Vec::new();
    let blocks = (0..n).map(|i| block(r, i, &mut used)).collect();
    Model { noise, blocks }
}

fn block(r: &mut Rng, index: usize, used: &mut Vec<&'static str>) -> Block {
    let keyword = match r.below(40) {
        0 => "seal",
        1 => "hsm",
        2 => "KMS",
        3 => "Kms",
        _ => "kms",
    };
    let kind = match r.below(40) {
        0..=23 => "aead",
        24..=33 => "awskms",
        34 => "AEAD",
        35 => "Aead",
        36 => "gcpckms",
        37 => "transit",
        38 => "shamir",
        _ => "nosuchkms",
    };
    let mut labels = vec![kind.to_owned()];
    if r.pct(3) {
        labels.push(r.pick(&["more", "aead", "x y"]).to_string());
    }
    if r.pct(1) {
        labels.clear();
    }
    let mut attrs = Vec::new();
    let purpose_key = match r.below(30) {
        0 => "Purpose",
        1 => "PURPOSE",
        2 => "purposes",
        _ => "purpose",
    };
    if !r.pct(4) {
        attrs.push((purpose_key.to_owned(), purpose(r, index, used)));
    }
    match kind.to_ascii_lowercase().as_str() {
        "aead" => aead_attrs(r, index, &mut attrs),
        "awskms" => awskms_attrs(r, index, &mut attrs),
        _ => {
            attrs.push(("key_id".to_owned(), key_id(r, index)));
            if r.pct(50) {
                attrs.push(("key".to_owned(), Value::Str(r.pick(KEYS_32).to_string())));
            }
        }
    }
    if r.pct(6) {
        attrs.push((
            "disabled".to_owned(),
            r.pick(&[
                &Value::Bool(true),
                &Value::Bool(false),
                &Value::Str("true".into()),
            ])
            .clone(),
        ));
    }
    if r.pct(5) {
        let v = any_value(r, 1);
        attrs.push((
            r.pick(&["unknown_attr", "Key_Id", "keyid", "KEY"])
                .to_string(),
            v,
        ));
    }
    if r.pct(5) && !attrs.is_empty() {
        // The same attribute again, with another value.
        let i = r.below(attrs.len());
        let (k, _) = attrs[i].clone();
        let v = match k.as_str() {
            "key" => Value::Str(r.pick(KEYS_32).to_string()),
            _ => Value::Str(format!("dup{}", r.below(3))),
        };
        attrs.push((k, v));
    }
    if r.pct(15) {
        let n = attrs.len();
        for i in (1..n).rev() {
            let j = r.below(i + 1);
            attrs.swap(i, j);
        }
    }
    Block {
        keyword: keyword.to_owned(),
        labels,
        attrs,
    }
}

fn purpose(r: &mut Rng, index: usize, used: &mut Vec<&'static str>) -> Value {
    let mut fresh = |r: &mut Rng| -> &'static str {
        // Mostly a purpose not yet used, so that most configs get past the duplicate rules.
        for _ in 0..4 {
            let p = r.pick(PURPOSES);
            if !used.contains(&p) || r.pct(10) {
                used.push(p);
                return p;
            }
        }
        PURPOSES[index % PURPOSES.len()]
    };
    match r.below(30) {
        0..=11 => Value::Str(fresh(r).to_owned()),
        12..=16 => Value::List(vec![Value::Str(fresh(r).to_owned())]),
        17..=19 => Value::List(vec![
            Value::Str(fresh(r).to_owned()),
            Value::Str(fresh(r).to_owned()),
        ]),
        20 => Value::Str(format!("{},{}", fresh(r), fresh(r))),
        21 => Value::Str(format!("{}, {}", fresh(r), fresh(r))),
        22 => Value::Str(format!("{}{}", fresh(r), r.pick(&[",", " ", ", ", ",,"]))),
        23 => Value::Str(match r.below(4) {
            0 => fresh(r).to_uppercase(),
            1 => format!(" {}", fresh(r)),
            2 => {
                let p = fresh(r);
                let mut c = p.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            }
            _ => format!("{}\t", fresh(r)),
        }),
        24 => Value::Str(
            r.pick(&["", " ", "foo", "root previous-root", "all"])
                .to_string(),
        ),
        25 => Value::List(vec![]),
        26 => {
            let p = fresh(r);
            Value::List(vec![Value::Str(p.to_owned()), Value::Str(p.to_owned())])
        }
        27 => Value::List(vec![Value::Str(format!("{},{}", fresh(r), fresh(r)))]),
        28 => Value::List(vec![
            Value::Str(fresh(r).to_owned()),
            r.pick(&[
                &Value::Num("1".into()),
                &Value::Bool(true),
                &Value::Str(String::new()),
            ])
            .clone(),
        ]),
        _ => any_value(r, 1),
    }
}

fn key_id(r: &mut Rng, index: usize) -> Value {
    match r.below(40) {
        0..=24 => Value::Str(format!("k{}", if r.pct(8) { 0 } else { index })),
        25 => Value::Str(String::new()),
        26 => Value::Num(
            r.pick(&[
                "1",
                "0x1F",
                "017",
                "1.5",
                "1e3",
                "-3",
                "9223372036854775808",
            ])
            .to_string(),
        ),
        27 => Value::Bool(r.pct(50)),
        28 => Value::Heredoc {
            body: format!("k{index}"),
            indented: r.pct(50),
        },
        29 => Value::Str(format!("${{var.k{index}}}")),
        30 => Value::Str("env://ORACLE_KMS_KEY_ID".to_owned()),
        31 => Value::Str("file://id.txt".to_owned()),
        32 => Value::Raw {
            hcl: r
                .pick(&[
                    "\"a\\tb\"",
                    "\"\\u00e9t\\u00e9\"",
                    "\"a\\\"b\"",
                    "\"a\\\\b\"",
                    "\"\\x41\"",
                    "\"\\101\"",
                ])
                .to_string(),
            json: Some(
                r.pick(&[
                    "\"a\\tb\"",
                    "\"\\u00e9t\\u00e9\"",
                    "\"a\\\"b\"",
                    "\"a\\/b\"",
                ])
                .to_string(),
            ),
        },
        33 => Value::Str(format!(" k{index} ")),
        34 => Value::List(vec![Value::Str(format!("k{index}"))]),
        35 => Value::Str("alias/my-key".to_owned()),
        36 => Value::Str("K1".to_owned()),
        37 => Value::Null,
        _ => Value::Str(format!("key-{index}")),
    }
}

fn aead_key(r: &mut Rng) -> Value {
    match r.below(50) {
        0..=29 => Value::Str(r.pick(KEYS_32).to_string()),
        30..=33 => Value::Str(r.pick(KEYS_16).to_string()),
        34..=35 => Value::Str(r.pick(KEYS_24).to_string()),
        36 => Value::Str(r.pick(KEYS_32).trim_end_matches('=').to_owned()),
        37 => Value::Str(r.pick(KEYS_16).trim_end_matches('=').to_owned()),
        38 => Value::Str(r.pick(KEYS_32).replace('+', "-").replace('/', "_")),
        39 => Value::Str("env://ORACLE_AEAD_KEY".to_owned()),
        40 => Value::Str(
            r.pick(&["file://key.txt", "file://key_nl.txt", "file://missing.txt"])
                .to_string(),
        ),
        41 => Value::Str("env://ORACLE_NOT_SET".to_owned()),
        42 => Value::Str(String::new()),
        43 => Value::Str("dGVzdA==".to_owned()),
        44 => Value::Heredoc {
            body: r.pick(KEYS_32).to_string(),
            indented: r.pct(50),
        },
        45 => Value::Str(format!(" {}", r.pick(KEYS_32))),
        46 => Value::Str(format!("{}\n", r.pick(KEYS_32))),
        47 => Value::Num("12345".to_owned()),
        48 => Value::List(vec![Value::Str(r.pick(KEYS_32).to_string())]),
        _ => Value::Str("not base64!".to_owned()),
    }
}

fn aead_attrs(r: &mut Rng, index: usize, attrs: &mut Vec<(String, Value)>) {
    if !r.pct(5) {
        attrs.push(("key".to_owned(), aead_key(r)));
    }
    if !r.pct(8) {
        attrs.push(("key_id".to_owned(), key_id(r, index)));
    }
    if r.pct(12) {
        let t = r.pick(&["aes-gcm", "AES-GCM", "Aes-Gcm", "", "chacha20", " aes-gcm"]);
        attrs.push(("aead_type".to_owned(), Value::Str(t.to_string())));
    }
}

fn awskms_attrs(r: &mut Rng, index: usize, attrs: &mut Vec<(String, Value)>) {
    if !r.pct(10) {
        let id = match r.below(12) {
            0..=5 => Value::Str(format!("alias/k{index}")),
            6 => Value::Str(
                "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                    .into(),
            ),
            7 => Value::Str("env://ORACLE_KMS_KEY_ID".into()),
            8 => Value::Str("file://id.txt".into()),
            9 => Value::Str(String::new()),
            10 => Value::Num("42".into()),
            _ => Value::Str(format!("1234abcd-12ab-34cd-56ef-12345678900{}", index % 10)),
        };
        attrs.push(("kms_key_id".to_owned(), id));
    }
    if r.pct(20) {
        attrs.push(("key_id".to_owned(), key_id(r, index)));
    }
    if r.pct(60) {
        let region = r.pick(&[
            "us-east-1",
            "eu-west-1",
            "",
            "US-EAST-1",
            "env://ORACLE_REGION",
        ]);
        attrs.push(("region".to_owned(), Value::Str(region.to_string())));
    }
    if r.pct(25) {
        let (ak, sk) = match r.below(6) {
            0..=1 => ("AKIDEXAMPLE", "secret"),
            2 => ("env://ORACLE_AK", "env://ORACLE_SK"),
            3 => ("file://ak.txt", "literal-secret"),
            4 => ("env://ORACLE_NOT_SET", "x"),
            _ => ("AKIDONLY", ""),
        };
        attrs.push(("access_key".to_owned(), Value::Str(ak.into())));
        if !sk.is_empty() {
            attrs.push(("secret_key".to_owned(), Value::Str(sk.into())));
        }
    }
    if r.pct(8) {
        attrs.push(("session_token".to_owned(), Value::Str("tok".into())));
    }
    if r.pct(20) {
        let e = r.pick(&[
            "http://127.0.0.1:4566",
            "https://kms.us-east-1.amazonaws.com",
            "kms.internal:4566",
            "",
            "env://ORACLE_ENDPOINT",
            "ftp://x",
        ]);
        attrs.push(("endpoint".to_owned(), Value::Str(e.to_string())));
    }
    if r.pct(5) {
        let k = r.pick(&[
            "shared_creds_profile",
            "role_arn",
            "web_identity_token_file",
            "filename",
            "Region",
            "KMS_KEY_ID",
        ]);
        attrs.push((k.to_string(), Value::Str("x".into())));
    }
}

fn any_value(r: &mut Rng, depth: usize) -> Value {
    match r.below(if depth > 2 { 6 } else { 9 }) {
        0 => Value::Str(
            r.pick(&["x", "", "${x}", "a b", "env://ORACLE_AK", "file://ak.txt"])
                .to_string(),
        ),
        1 => Value::Num(r.pick(&["0", "7", "-1", "1.25", "0x10", "1e2"]).to_string()),
        2 => Value::Bool(r.pct(50)),
        3 => Value::Heredoc {
            body: "line1\nline2".into(),
            indented: r.pct(50),
        },
        4 => Value::Null,
        5 => Value::Raw {
            hcl: "\"\\n\"".into(),
            json: Some("\"\\n\"".into()),
        },
        6 | 7 => Value::List((0..r.below(3)).map(|_| any_value(r, depth + 1)).collect()),
        _ => Value::Obj(
            (0..r.below(3))
                .map(|i| (format!("f{i}"), any_value(r, depth + 1)))
                .collect(),
        ),
    }
}

/// A small text mutation: most give a syntax error somewhere, some a subtler change.
fn mutate(r: &mut Rng, text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return text.to_owned();
    }
    let at = r.below(chars.len());
    let mut out: String = chars[..at].iter().collect();
    let rest: String = chars[at..].iter().collect();
    match r.below(6) {
        0 => out.push_str(&rest.chars().skip(1).collect::<String>()),
        1 => {
            out.push_str(r.pick(&[
                "{", "}", "\"", "=", ",", "[", "]", "\n", "#", "/", "*", "\\", "$",
            ]));
            out.push_str(&rest);
        }
        2 => {
            out.push_str(&rest);
            out.push_str(r.pick(&["\n}", "\n{", "\n\"", "/*", "\nkms", "<<EOF\n"]));
        }
        3 => {
            out.push_str(r.pick(&[" ", "\n", "\t", "\r\n"]));
            out.push_str(&rest);
        }
        4 => {
            // Cut the text short.
        }
        _ => {
            out.push_str(r.pick(&["x", "1", "-", ".", "_"]));
            out.push_str(&rest);
        }
    }
    out
}

mod hcl {
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
                if i + 1 < attrs.len() && r.pct(6) && !matches!(b.attrs[i].1, Value::Heredoc { .. })
                {
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
}

mod json {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_configs_and_others_differ() {
        let a: Vec<String> = (0..50).map(|i| case(7, i).text).collect();
        let b: Vec<String> = (0..50).map(|i| case(7, i).text).collect();
        let c: Vec<String> = (0..50).map(|i| case(8, i).text).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mut distinct = a.clone();
        distinct.sort();
        distinct.dedup();
        assert!(distinct.len() > 45, "{} distinct of 50", distinct.len());
    }

    #[test]
    fn the_grammar_reaches_its_shapes() {
        let texts: Vec<Case> = (0..3000).map(|i| case(1, i)).collect();
        let all = |needle: &str| texts.iter().filter(|c| c.text.contains(needle)).count();
        for needle in [
            "kms \"aead\"",
            "kms \"awskms\"",
            "seal \"",
            "hsm \"",
            "<<-",
            "<<EOF",
            "/*",
            "//",
            "# ",
            "${",
            "env://",
            "file://",
            "Purpose",
            "disabled",
            "\"kms\": [",
            "aead_type",
            "sP1fnF5Xz85RrXyELHFeZg==",
            "\r\n",
        ] {
            assert!(all(needle) > 0, "no case has {needle:?}");
        }
        let json = texts.iter().filter(|c| c.ext == "json").count();
        assert!(json > 300 && json < 900, "{json} JSON cases of 3000");
    }
}
