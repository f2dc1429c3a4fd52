//! `{{encrypt(..)}}` and `{{decrypt(..)}}` markers: every marker found, even several on one
//! line, and everything outside them byte-identical.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kms_config::{find_markers, replace_markers, Marker};
use proptest::prelude::*;

fn values<'a>(text: &'a str, func: &str) -> Vec<&'a str> {
    find_markers(text, func).iter().map(|m| m.value).collect()
}

#[test]
fn two_markers_on_one_line_are_both_found() {
    let text = "kms \"awskms\" {\n  access_key = \"{{encrypt(AKIA)}}\" secret_key = \"{{encrypt(s3cret)}}\"\n}\n";
    let ms = find_markers(text, "encrypt");
    assert_eq!(
        ms.iter().map(|m| m.value).collect::<Vec<_>>(),
        ["AKIA", "s3cret"]
    );
    assert_eq!(&text[ms[0].range.clone()], "{{encrypt(AKIA)}}");
    assert_eq!(&text[ms[1].range.clone()], "{{encrypt(s3cret)}}");
    let out = replace_markers(
        text,
        &ms,
        &["{{decrypt(A)}}".into(), "{{decrypt(B)}}".into()],
    );
    assert_eq!(
        out,
        "kms \"awskms\" {\n  access_key = \"{{decrypt(A)}}\" secret_key = \"{{decrypt(B)}}\"\n}\n"
    );
    // Adjacent markers, too.
    assert_eq!(
        values("{{encrypt(a)}}{{encrypt(b)}}", "encrypt"),
        ["a", "b"]
    );
}

#[test]
fn values_may_hold_parentheses() {
    assert_eq!(
        values("x = \"{{encrypt(f(a, (b)))}}\"", "encrypt"),
        ["f(a, (b))"]
    );
    assert_eq!(
        values("{{encrypt(()}} {{encrypt())}}", "encrypt"),
        ["(", ")"]
    );
    assert_eq!(values("{{encrypt(a)}b)}}", "encrypt"), ["a)}b"]);
    assert_eq!(values("{{encrypt()}}", "encrypt"), [""]);
    // A value ends at the first ")}}".
    assert_eq!(values("{{encrypt(a)}})}}", "encrypt"), ["a"]);
}

#[test]
fn only_the_named_function_on_one_line() {
    let text = "{{decrypt(x)}} {{encrypt(y)}}\n{{encrypt(across\nlines)}} {{encrypt(unclosed\n{{ encrypt(spaced)}}";
    assert_eq!(values(text, "encrypt"), ["y"]);
    assert_eq!(values(text, "decrypt"), ["x"]);
    assert!(find_markers("", "encrypt").is_empty());
    // CRLF files: the \r is outside the marker.
    assert_eq!(
        values("a = \"{{encrypt(v)}}\"\r\nb = 1\r\n", "encrypt"),
        ["v"]
    );
}

#[test]
fn text_outside_markers_is_byte_identical() {
    let text =
        "# ünïcödé {{ not a marker }}\r\n\tkey = \"{{encrypt(é)}}\"  // trailing {{encrypt(\n\
                x = <<EOT\n{{encrypt(in heredoc)}}\nEOT\n";
    let ms = find_markers(text, "encrypt");
    assert_eq!(
        ms.iter().map(|m| m.value).collect::<Vec<_>>(),
        ["é", "in heredoc"]
    );
    let out = replace_markers(text, &ms, &["<1>".into(), "<2>".into()]);
    assert_eq!(
        out,
        "# ünïcödé {{ not a marker }}\r\n\tkey = \"<1>\"  // trailing {{encrypt(\nx = <<EOT\n<2>\nEOT\n"
    );
}

#[test]
fn replace_is_defensive_about_its_inputs() {
    let text = "a {{encrypt(1)}} b {{encrypt(2)}} c";
    let ms = find_markers(text, "encrypt");
    // Fewer replacements than markers: the rest stay as they are.
    assert_eq!(
        replace_markers(text, &ms, &["X".into()]),
        "a X b {{encrypt(2)}} c"
    );
    // Out of order, overlapping, or out of range: skipped, never a panic.
    let reversed: Vec<Marker<'_>> = ms.iter().rev().cloned().collect();
    assert_eq!(
        replace_markers(text, &reversed, &["Y".into(), "X".into()]),
        "a {{encrypt(1)}} b Y c"
    );
    let wild = [
        Marker {
            range: 5..1000,
            value: "",
        },
        // A reversed range.
        Marker {
            range: std::ops::Range { start: 3, end: 2 },
            value: "",
        },
    ];
    assert_eq!(
        replace_markers(text, &wild, &["Z".into(), "Z".into()]),
        text
    );
    let multibyte = "é{{encrypt(x)}}";
    let inside_char = [Marker {
        range: 1..3,
        value: "",
    }];
    assert_eq!(
        replace_markers(multibyte, &inside_char, &["Z".into()]),
        multibyte
    );
}

proptest! {
    /// Markers replaced by arbitrary text: the text between them is unchanged.
    #[test]
    fn outside_is_preserved(parts in proptest::collection::vec(("[^{}()\n]{0,12}", "[^\n]{0,12}", "\\PC{0,8}"), 0..6)) {
        // parts: (plain text, marker value, replacement)
        let mut text = String::new();
        let mut want = String::new();
        let mut expected_values = Vec::new();
        let mut replacements = Vec::new();
        for (plain, value, repl) in &parts {
            if value.contains(")}}") {
                continue;
            }
            text.push_str(plain);
            want.push_str(plain);
            text.push_str(&format!("{{{{encrypt({value})}}}}"));
            want.push_str(repl);
            expected_values.push(value.clone());
            replacements.push(repl.clone());
        }
        let ms = find_markers(&text, "encrypt");
        let got: Vec<String> = ms.iter().map(|m| m.value.to_owned()).collect();
        prop_assert_eq!(&got, &expected_values);
        prop_assert_eq!(replace_markers(&text, &ms, &replacements), want);
    }
}
