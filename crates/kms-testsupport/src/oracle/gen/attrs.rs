//! The attribute grammars: purposes, key ids, aead keys, awskms settings and any value.

use super::{Rng, Value, KEYS_16, KEYS_24, KEYS_32, PURPOSES};

pub(super) fn purpose(r: &mut Rng, index: usize, used: &mut Vec<&'static str>) -> Value {
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

pub(super) fn key_id(r: &mut Rng, index: usize) -> Value {
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

pub(super) fn aead_key(r: &mut Rng) -> Value {
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

pub(super) fn aead_attrs(r: &mut Rng, index: usize, attrs: &mut Vec<(String, Value)>) {
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

pub(super) fn awskms_attrs(r: &mut Rng, index: usize, attrs: &mut Vec<(String, Value)>) {
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

pub(super) fn any_value(r: &mut Rng, depth: usize) -> Value {
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
