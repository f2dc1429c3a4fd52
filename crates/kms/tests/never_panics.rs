//! Parsing never panics: on arbitrary text, on token soup, and on mutated corpus configs, in
//! both formats. Problems are values, and each names the file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use kms::config::{find_markers, parse_str, replace_markers, Format, LoadOptions};
use proptest::prelude::*;

fn opts() -> LoadOptions {
    let env: HashMap<String, String> = [("AWSKMS_WRAPPER_KEY_ID", "k"), ("X", "")]
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    LoadOptions {
        backends: kms::backends(),
        env: Some(env),
    }
}

fn check(text: &str) {
    for format in [Format::Hcl, Format::Json] {
        match parse_str(text, "fuzz", format, &opts()) {
            Ok(cfg) => {
                let _ = format!("{cfg:?}");
            }
            Err(e) => {
                assert!(!e.0.is_empty(), "an error holds at least one problem");
                assert!(e.0.iter().all(|p| p.file == "fuzz"));
                assert_eq!(
                    e.to_string().lines().count(),
                    e.0.len(),
                    "one line per problem: {e}"
                );
            }
        }
    }
}

fn corpus() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut out: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "hcl" || e == "json"))
        .map(|p| fs::read_to_string(p).unwrap())
        .collect();
    out.sort();
    out
}

const TOKENS: &[&str] = &[
    "kms",
    "\"aead\"",
    "\"awskms\"",
    "aead",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "=",
    ":",
    ",",
    "\n",
    " ",
    "\t",
    "\"",
    "purpose",
    "\"root\"",
    "\"root, recovery\"",
    "key",
    "key_id",
    "kms_key_id",
    "disabled",
    "true",
    "false",
    "null",
    "1",
    "-",
    "%",
    "0",
    "1 % 0",
    "99999999999999999999 * 99999999999999999999",
    "<<EOT\n",
    "<<-EOT\n",
    "EOT\n",
    "${",
    "%{",
    "#",
    "//",
    "/*",
    "*/",
    "\"env://",
    "\"file://",
    "\"FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE=\"",
    "{\"kms\": ",
    "[{\"aead\": ",
    "\"purpose\": ",
    "\\",
    "\\u",
    "é",
    "\r\n",
    "listener \"tcp\" ",
    ".",
    "*",
    "?",
    "for",
    "in",
    "if",
    "upper(",
    "x.y",
    "[*]",
    "...",
];

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, &'static str),
    Duplicate(usize, usize, usize),
    Flip(usize, u8),
}

fn apply(base: &str, ms: &[Mutation]) -> String {
    let mut b = base.as_bytes().to_vec();
    for m in ms {
        let n = b.len().max(1);
        match *m {
            Mutation::Delete(at, len) => {
                let at = at % n;
                let end = (at + len % 16).min(b.len());
                if at < end {
                    b.drain(at..end);
                }
            }
            Mutation::Insert(at, tok) => {
                let at = (at % (b.len() + 1)).min(b.len());
                b.splice(at..at, tok.bytes());
            }
            Mutation::Duplicate(from, len, to) => {
                let from = from % n;
                let end = (from + len % 64).min(b.len());
                let chunk: Vec<u8> = b.get(from..end).unwrap_or_default().to_vec();
                let to = (to % (b.len() + 1)).min(b.len());
                b.splice(to..to, chunk);
            }
            Mutation::Flip(at, byte) => {
                if let Some(x) = b.get_mut(at % n) {
                    *x = byte;
                }
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<usize>()).prop_map(|(a, l)| Mutation::Delete(a, l)),
        (any::<usize>(), proptest::sample::select(TOKENS))
            .prop_map(|(a, t)| Mutation::Insert(a, t)),
        (any::<usize>(), any::<usize>(), any::<usize>())
            .prop_map(|(f, l, t)| Mutation::Duplicate(f, l, t)),
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Mutation::Flip(a, b)),
    ]
}

proptest! {
    #[test]
    fn arbitrary_text(text in any::<String>()) {
        check(&text);
    }

    #[test]
    fn token_soup(tokens in proptest::collection::vec(proptest::sample::select(TOKENS), 0..80)) {
        check(&tokens.concat());
    }

    #[test]
    fn kms_block_with_arbitrary_values(values in proptest::collection::vec(
        (proptest::sample::select(&["purpose", "key", "key_id", "kms_key_id", "region", "disabled", "secret_key", "aead_type", "bogus"][..]),
         "[ -~]{0,40}"), 0..8)) {
        let body: String = values.iter().map(|(k, v)| format!("  {k} = \"{}\"\n", v.replace('\\', "\\\\").replace('"', "\\\""))).collect();
        check(&format!("kms \"aead\" {{\n{body}}}\nkms \"awskms\" {{\n{body}}}\n"));
        let json_body: Vec<String> = values.iter().map(|(k, v)| format!("{}: {}", serde_json::to_string(k).unwrap(), serde_json::to_string(v).unwrap())).collect();
        check(&format!("{{\"kms\": [{{\"aead\": {{{}}}}}]}}", json_body.join(", ")));
    }

    #[test]
    fn mutated_corpus_configs(pick in any::<proptest::sample::Index>(), ms in proptest::collection::vec(mutation(), 1..6)) {
        let corpus = corpus();
        let base = pick.get(&corpus);
        check(&apply(base, &ms));
    }

    #[test]
    fn markers_never_panic_and_identity_round_trips(text in any::<String>(), soup in proptest::collection::vec(
        proptest::sample::select(&["{{encrypt(", "{{decrypt(", ")}}", "(", ")", "}}", "{{", "\n", "x", "é"][..]), 0..40)) {
        for t in [text, soup.concat()] {
            for func in ["encrypt", "decrypt"] {
                let open = format!("{{{{{func}(");
                let ms = find_markers(&t, func);
                let same: Vec<String> = ms.iter().map(|m| t[m.range.clone()].to_owned()).collect();
                prop_assert_eq!(&replace_markers(&t, &ms, &same), &t);
                for m in &ms {
                    prop_assert!(!m.value.contains('\n'));
                    prop_assert!(t[m.range.clone()].starts_with(open.as_str()));
                    prop_assert!(t[m.range.clone()].ends_with(")}}"));
                }
            }
        }
    }
}

#[test]
fn corpus_is_not_empty() {
    assert!(corpus().len() > 10);
}
