//! `{{encrypt(..)}}` and `{{decrypt(..)}}` markers read as configutil's `EncryptDecrypt` reads
//! them (`{{encrypt\(.*\)}}`, Go RE2: at most one marker per line, from the first opening to
//! the last `)}}`), everything outside them byte-identical, and the lines `kms config encrypt`
//! refuses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kms_config::{
    decode_marker_value, encrypt_problems, find_markers, replace_markers, LineProblem, Marker,
    MarkerProblem,
};
use proptest::prelude::*;

fn values<'a>(text: &'a str, func: &str) -> Vec<&'a str> {
    find_markers(text, func).iter().map(|m| m.value).collect()
}

/// A model of Go's `regexp.MustCompile(`{{FUNC\(.*\)}}`).FindAllIndex`, written independently
/// of `find_markers`: try every start in order and take the longest match from the first
/// start that has one, then go on after it.
fn go_find_all(text: &str, func: &str) -> Vec<std::ops::Range<usize>> {
    let open = format!("{{{{{func}(");
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        if !text.is_char_boundary(start) || !text[start..].starts_with(&open) {
            start += 1;
            continue;
        }
        // `.*` cannot cross a newline; greedy: the longest end wins.
        let mut best = None;
        let mut end = start + open.len();
        loop {
            if text[end..].starts_with(")}}") {
                best = Some(end + 3);
            }
            match text[end..].chars().next() {
                Some(c) if c != '\n' => end += c.len_utf8(),
                _ => break,
            }
        }
        match best {
            Some(e) => {
                out.push(start..e);
                start = e;
            }
            None => start += 1,
        }
    }
    out
}

#[test]
fn two_markers_on_one_line_are_one_greedy_value() {
    let text = "kms \"awskms\" {\n  access_key = \"{{encrypt(AKIA)}}\" secret_key = \"{{encrypt(s3cret)}}\"\n}\n";
    let ms = find_markers(text, "encrypt");
    assert_eq!(ms.len(), 1);
    assert_eq!(ms[0].line, 2);
    assert_eq!(ms[0].value, "AKIA)}}\" secret_key = \"{{encrypt(s3cret");
    assert_eq!(
        &text[ms[0].range.clone()],
        "{{encrypt(AKIA)}}\" secret_key = \"{{encrypt(s3cret)}}"
    );
    let out = replace_markers(text, &ms, &["{{decrypt(A)}}".into()]);
    assert_eq!(
        out,
        "kms \"awskms\" {\n  access_key = \"{{decrypt(A)}}\"\n}\n"
    );
    assert_eq!(
        values("{{encrypt(a)}}{{encrypt(b)}}", "encrypt"),
        ["a)}}{{encrypt(b"]
    );
}

#[test]
fn a_value_runs_to_the_last_close_of_its_line() {
    assert_eq!(
        values("x = \"{{encrypt(f(a, (b)))}}\"", "encrypt"),
        ["f(a, (b))"]
    );
    assert_eq!(values("{{encrypt(a)}b)}}", "encrypt"), ["a)}b"]);
    assert_eq!(values("{{encrypt()}}", "encrypt"), [""]);
    assert_eq!(values("{{encrypt(a)}})}}", "encrypt"), ["a)}}"]);
    assert_eq!(values("{{encrypt()}}}", "encrypt"), [""]);
    // An opening with no ")}}" after it on its line is not one; a later one may be.
    assert!(find_markers(")}} {{encrypt(x", "encrypt").is_empty());
    assert_eq!(
        values("{{encrypt(a {{encrypt(b)}}", "encrypt"),
        ["a {{encrypt(b"]
    );
}

#[test]
fn lines_end_at_newline_only() {
    let text = "{{decrypt(x)}} {{encrypt(y)}}\n{{encrypt(across\nlines)}} {{encrypt(unclosed\n{{ encrypt(spaced)}}";
    assert_eq!(values(text, "encrypt"), ["y"]);
    assert_eq!(values(text, "decrypt"), ["x)}} {{encrypt(y"]);
    assert!(find_markers("", "encrypt").is_empty());
    // CRLF: "." matches \r, so a \r after the last ")}}" stays outside and one before it is
    // inside the value; a lone \r does not end a line.
    assert_eq!(
        values("a = \"{{encrypt(v)}}\"\r\nb = 1\r\n", "encrypt"),
        ["v"]
    );
    assert_eq!(
        values("{{encrypt(a)}}\r{{encrypt(b)}}", "encrypt"),
        ["a)}}\r{{encrypt(b"]
    );
    let lines: Vec<usize> = find_markers("\n\n{{decrypt(a)}}\n{{decrypt(b)}}", "decrypt")
        .iter()
        .map(|m| m.line)
        .collect();
    assert_eq!(lines, [3, 4]);
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
    let text = "a {{encrypt(1)}} b\n{{encrypt(2)}} c";
    let ms = find_markers(text, "encrypt");
    assert_eq!(
        replace_markers(text, &ms, &["X".into()]),
        "a X b\n{{encrypt(2)}} c"
    );
    let reversed: Vec<Marker<'_>> = ms.iter().rev().cloned().collect();
    assert_eq!(
        replace_markers(text, &reversed, &["Y".into(), "X".into()]),
        "a {{encrypt(1)}} b\nY c"
    );
    let wild = [
        Marker {
            range: 5..1000,
            value: "",
            line: 1,
        },
        Marker {
            range: std::ops::Range { start: 3, end: 2 },
            value: "",
            line: 1,
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
        line: 1,
    }];
    assert_eq!(
        replace_markers(multibyte, &inside_char, &["Z".into()]),
        multibyte
    );
}

fn problems(text: &str) -> Vec<(usize, MarkerProblem)> {
    encrypt_problems(text)
        .into_iter()
        .map(|LineProblem { line, problem }| (line, problem))
        .collect()
}

#[test]
fn lines_boundary_reads_as_they_look_have_no_problem() {
    let fine = "a = \"{{encrypt(x)}}\"\nb = \"{{encrypt(f(y) and (z))}}\" # {{ok}}\n\
                c = \"{{decrypt(QUJD)}}\"\nd = \"{{encrypt(v)}}\" {{decrypt(\ne = {{encrypt()}}\r\n\
                f = \"{{decrypt(x)}}\"  )} }}\n{{encrypted}} {{ encrypted }}\n";
    assert_eq!(problems(fine), []);
    assert_eq!(problems(""), []);
}

#[test]
fn lines_boundary_misreads_are_named_with_their_reason() {
    use MarkerProblem::*;
    let text = [
        "a = \"{{encrypt(x)}}\" b = \"{{encrypt(y)}}\"", // 1: two markers
        "ok = \"{{encrypt(fine)}}\"",                    // 2
        "p = \"{{encrypt(pa)}}ss)}}\"",                  // 3: the value holds )}}
        "q = \"{{decrypt(QUJD)}}\" r = \"{{encrypt(s)}}\"", // 4: decrypt before
        "t = \"{{ encrypt(x) }}\"",                      // 5: near miss
        "u = {{ENCRYPT(x)}}",                            // 6: near miss
        "v = {{encrypt(x)}",                             // 7: no )}} on its line
        "w = \"{{decrypt(QUJD)}}\" x = \"{{decrypt(QUJD)}}\"", // 8: two decrypt markers
        "y = {{encrypt(a {{encrypt(b)}}",                // 9: two openings
        "z = {{encrypt(a)}} {{ encrypt(b) }",            // 10: near miss after a marker
        "{{encrypt(a)}} {{ENCRYPT(b)}}",                 // 11: greedy value holds )}}
        "{{encrypt(a {{decrypt(b)}}",                    // 12: fine, one value
        "{{decrypt(a {{decrypt(b)}}",                    // 13: two decrypt openings
    ]
    .join("\n");
    assert_eq!(
        problems(&text),
        [
            (1, TwoMarkers),
            (3, ValueHoldsClose),
            (4, DecryptBefore),
            (5, NearMiss),
            (6, NearMiss),
            (7, NearMiss),
            (8, TwoDecryptMarkers),
            (9, TwoMarkers),
            (10, NearMiss),
            (11, ValueHoldsClose),
            (13, TwoDecryptMarkers),
        ]
    );
    // Each reason is one line of its own.
    let mut reasons: Vec<String> = [
        TwoMarkers,
        ValueHoldsClose,
        DecryptBefore,
        TwoDecryptMarkers,
        NearMiss,
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    assert!(reasons.iter().all(|r| !r.contains('\n')));
    reasons.dedup();
    assert_eq!(reasons.len(), 5);
}

#[test]
fn go_raw_url_base64_as_configutil_decodes_values() {
    assert_eq!(decode_marker_value("QUJD").unwrap(), b"ABC");
    assert_eq!(decode_marker_value("QUI").unwrap(), b"AB");
    assert_eq!(decode_marker_value("QQ").unwrap(), b"A");
    // Padding and the standard alphabet are Go errors for RawURLEncoding.
    assert!(decode_marker_value("QQ==").is_none());
    assert!(decode_marker_value("a+b/").is_none());
    assert!(decode_marker_value(" QUJD").is_none());
    assert!(decode_marker_value("QUJDR").is_none());
}

proptest! {
    /// `find_markers` agrees with a direct model of Go's leftmost-first greedy regexp.
    #[test]
    fn agrees_with_the_go_regexp_model(soup in proptest::collection::vec(
        proptest::sample::select(&["{{encrypt(", "{{decrypt(", ")}}", "(", ")", "}}", "{{", "}", "\n", "\r", "x", "é"][..]), 0..40)) {
        let text = soup.concat();
        for func in ["encrypt", "decrypt"] {
            let got: Vec<_> = find_markers(&text, func).into_iter().map(|m| m.range).collect();
            prop_assert_eq!(got, go_find_all(&text, func));
        }
    }

    /// Markers replaced by arbitrary text, one per line: the text between them is unchanged.
    #[test]
    fn outside_is_preserved(parts in proptest::collection::vec(("[^{}()\n]{0,12}", "[^\n]{0,12}", "\\PC{0,8}"), 0..6)) {
        let mut text = String::new();
        let mut want = String::new();
        let mut expected_values = Vec::new();
        let mut replacements = Vec::new();
        for (plain, value, repl) in &parts {
            if value.contains(")}}") || value.contains("{{encrypt(") {
                continue;
            }
            text.push_str(plain);
            want.push_str(plain);
            text.push_str(&format!("{{{{encrypt({value})}}}}\n"));
            want.push_str(repl);
            want.push('\n');
            expected_values.push(value.clone());
            replacements.push(repl.clone());
        }
        let ms = find_markers(&text, "encrypt");
        let got: Vec<String> = ms.iter().map(|m| m.value.to_owned()).collect();
        prop_assert_eq!(&got, &expected_values);
        prop_assert_eq!(replace_markers(&text, &ms, &replacements), want);
    }
}
