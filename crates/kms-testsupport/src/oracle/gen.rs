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

mod attrs;
mod hcl;
mod json;

use attrs::{aead_attrs, any_value, awskms_attrs, key_id, purpose};

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
