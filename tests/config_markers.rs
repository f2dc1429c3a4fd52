//! `kms config encrypt|decrypt` and config loading against HashiCorp's own code: the oracle's
//! `gkw config-encrypt|config-decrypt` is configutil's `EncryptDecrypt`, and `hclv1` is
//! Boundary's reading of a config. Files with many markers go both ways and are compared byte
//! for byte; lines Boundary would misread are refused by `kms config encrypt` and read by
//! everything else exactly as Boundary reads them.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{assert_code_for, assert_one_line, output, run, stderr, Scratch};

/// aead config keys of 128, 192 and 256 bits (standard base64, as Boundary's `key`).
const KEYS: [&str; 3] = [
    "y0ldm8v7OyK8Zkbg3Q1NhQ==",
    "3bF1XdMpTvFVwJ2kQ1RxSZt6g4Vr0d0Y",
    "c964AJj8VW8w4hKz/Jd8MvuLt0kkcjVuFqMiMvTvvN8=",
];
/// A root key that configs protect with a marker.
const ROOT_KEY: &str = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE=";

/// The oracle's binary `name` (`gkw`, `hclv1`); see [`kms_testsupport::oracle::binary`].
fn oracle(name: &str) -> Option<PathBuf> {
    kms_testsupport::oracle::binary(name)
}

/// `gkw ARGS -in IN -out OUT`; returns the exit code and stderr.
fn gkw<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(
    bin: &Path,
    args: &[S],
    input: &str,
    out: &str,
) -> (i32, String) {
    let mut c = Command::new(bin);
    c.args(args)
        .args(["-in", input, "-out", out])
        .env("AWS_EC2_METADATA_DISABLED", "true");
    let o = output(c);
    (o.status.code().unwrap_or(-1), stderr(&o))
}

fn gkw_ok<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(
    bin: &Path,
    args: &[S],
    input: &str,
    out: &str,
) -> Vec<u8> {
    let (code, err) = gkw(bin, args, input, out);
    assert_eq!(code, 0, "gkw {args:?} {input}: {err}");
    std::fs::read(out).unwrap()
}

fn aead_stanza(purpose: &str, key: &str, key_id: &str) -> String {
    format!("kms \"aead\" {{\n  purpose = \"{purpose}\"\n  aead_type = \"aes-gcm\"\n  key = \"{key}\"\n  key_id = \"{key_id}\"\n}}\n")
}

/// A config-like file with many markers that Boundary reads as they look, one per line at
/// most: values with parentheses, braces, quotes, non-ASCII text, `{{decrypt(` inside, the
/// empty value; markers in strings, comments, heredocs, at the start and end of lines; CRLF
/// and LF line ends; no newline at the end.
fn many_markers() -> String {
    let values = [
        "postgres://u:pw@db.internal:5432/boundary?sslmode=require",
        "",
        "(",
        ")",
        "f(a, (b))",
        "a)}b",
        "x}}",
        "{{",
        "}}}",
        "a)}",
        "ünïcödé ✓ 密码",
        "tab\there",
        " spaced ",
        "quote\\\"inside",
        "${not_interpolated}",
        "x{{decrypt(y",
        "{{ encrypted }}",
        "%s %d",
        "-----BEGIN KEY-----",
        ROOT_KEY,
    ];
    let mut text = String::from("# {{encrypt(..)}} markers, many of them\ncontroller {\n");
    for (i, v) in values.iter().enumerate() {
        let end = if i % 3 == 0 { "\r\n" } else { "\n" };
        text.push_str(&format!("  value_{i} = \"{{{{encrypt({v})}}}}\"{end}"));
        text.push_str(&format!(
            "  # note {i}: {{{{encrypt({v})}}}} in a comment{end}"
        ));
    }
    text.push_str("  doc = <<EOT\n{{encrypt(in a heredoc)}}\nplain line )}}\nEOT\n}\n");
    text.push_str("{{encrypt(at the start)}} tail\nhead {{encrypt(at the end)}}");
    text
}

fn count(hay: &[u8], needle: &str) -> usize {
    String::from_utf8_lossy(hay).matches(needle).count()
}

/// A config-purpose stanza for `kms` and the same wrapper as `gkw` flags.
struct Wrapper {
    stanza: String,
    gkw: Vec<String>,
}

fn aead_wrapper(key: &str) -> Wrapper {
    Wrapper {
        stanza: aead_stanza("config", key, "global_config"),
        gkw: ["-type", "aead", "-key", key, "-key-id", "global_config"]
            .map(String::from)
            .to_vec(),
    }
}

/// `kms config encrypt` → `gkw config-decrypt`, and `gkw config-encrypt` → `kms config
/// decrypt`, with and without strip: byte-identical to the original, and to each other.
fn both_ways(gkw_bin: &Path, s: &Scratch, w: &Wrapper, tag: &str, text: &str) {
    let kms_cfg = s.write(&format!("{tag}.kms.hcl"), &w.stanza);
    let plain = s.write(&format!("{tag}.plain"), text);
    let g: Vec<&str> = w.gkw.iter().map(String::as_str).collect();
    let with = |cmd: &'static str, extra: &[&'static str]| -> Vec<String> {
        let mut a = vec![cmd.to_owned()];
        a.extend(g.iter().map(|x| (*x).to_owned()));
        a.extend(extra.iter().map(|x| (*x).to_owned()));
        a
    };
    let markers = find_lines(text);

    // kms encrypts, gkw decrypts.
    let ours = s.p(&format!("{tag}.kms-enc"));
    let o = run(&["config", "encrypt", "-c", &kms_cfg, "-o", &ours, &plain]);
    assert_code_for(&format!("{tag}: kms config encrypt"), &o, 0);
    let enc = std::fs::read(&ours).unwrap();
    assert_eq!(count(&enc, "{{decrypt("), markers, "{tag}");
    assert_eq!(count(&enc, "{{encrypt("), 0, "{tag}");
    let back = gkw_ok(
        gkw_bin,
        &with("config-decrypt", &[]),
        &ours,
        &s.p(&format!("{tag}.gkw-dec")),
    );
    assert!(back == text.as_bytes(), "{tag}: gkw reads back kms's file");
    let gkw_strip = gkw_ok(
        gkw_bin,
        &with("config-decrypt", &["-strip"]),
        &ours,
        &s.p(&format!("{tag}.gkw-strip")),
    );
    let o = run(&["config", "decrypt", "-c", &kms_cfg, "--strip", &ours]);
    assert_code_for(&format!("{tag}: kms config decrypt --strip"), &o, 0);
    assert!(o.stdout == gkw_strip, "{tag}: both strip alike");

    // gkw encrypts, kms decrypts.
    let theirs = s.p(&format!("{tag}.gkw-enc"));
    let enc = gkw_ok(gkw_bin, &with("config-encrypt", &[]), &plain, &theirs);
    assert_eq!(count(&enc, "{{decrypt("), markers, "{tag}");
    let o = run(&["config", "decrypt", "-c", &kms_cfg, &theirs]);
    assert_code_for(&format!("{tag}: kms config decrypt"), &o, 0);
    assert!(
        o.stdout == text.as_bytes(),
        "{tag}: kms reads back gkw's file"
    );
    let o = run(&["config", "decrypt", "-c", &kms_cfg, "--strip", &theirs]);
    assert_code_for(&format!("{tag}: kms config decrypt --strip"), &o, 0);
    let gkw_strip = gkw_ok(
        gkw_bin,
        &with("config-decrypt", &["-strip"]),
        &theirs,
        &s.p(&format!("{tag}.gkw-strip2")),
    );
    assert!(o.stdout == gkw_strip, "{tag}: both strip gkw's file alike");
}

/// The lines holding `{{encrypt(` followed later on the line by `)}}`: one marker each.
fn find_lines(text: &str) -> usize {
    text.split('\n')
        .filter(|l| l.find("{{encrypt(").is_some_and(|i| l[i..].contains(")}}")))
        .count()
}

#[test]
fn many_markers_both_ways_with_gkw_aead() {
    let Some(gkw_bin) = oracle("gkw") else {
        return;
    };
    let s = Scratch::new();
    let text = many_markers();
    assert!(find_lines(&text) > 40);
    for (bits, key) in [128, 192, 256].iter().zip(KEYS) {
        both_ways(
            &gkw_bin,
            &s,
            &aead_wrapper(key),
            &format!("aes{bits}"),
            &text,
        );
    }
}

#[test]
fn many_markers_both_ways_with_gkw_awskms_on_moto() {
    let Some(gkw_bin) = oracle("gkw") else {
        return;
    };
    if !kms_testsupport::integration_enabled() {
        return;
    }
    let moto = kms_testsupport::Moto::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let key = rt.block_on(moto.create_key());
    rt.block_on(moto.set_alias("alias/config", &key));
    let w = Wrapper {
        stanza: format!(
            "kms \"awskms\" {{\n  purpose = \"config\"\n  region = \"us-east-1\"\n  kms_key_id = \"alias/config\"\n  endpoint = \"{}\"\n  access_key = \"{}\"\n  secret_key = \"{}\"\n}}\n",
            moto.endpoint,
            kms_testsupport::ACCESS_KEY,
            kms_testsupport::SECRET_KEY
        ),
        gkw: vec![
            "-type".into(),
            "awskms".into(),
            "-kms-key-id".into(),
            "alias/config".into(),
            "-region".into(),
            "us-east-1".into(),
            "-endpoint".into(),
            moto.endpoint.clone(),
            "-config".into(),
            format!("access_key={}", kms_testsupport::ACCESS_KEY),
            "-config".into(),
            format!("secret_key={}", kms_testsupport::SECRET_KEY),
        ],
    };
    let s = Scratch::new();
    both_ways(&gkw_bin, &s, &w, "awskms", &many_markers());
}

/// Lines Boundary reads greedily, and why `kms config encrypt` refuses each.
const MISREAD: &[(&str, &str)] = &[
    (
        "a = \"{{encrypt(hunter2)}}\" b = \"{{encrypt(hunter3)}}\"",
        "two {{encrypt(..)}} markers",
    ),
    ("p = \"{{encrypt(hunter2)}}x)}}\"", "holds \")}}\""),
    (
        "a = \"{{encrypt(hunter2)}}\" # {{ENCRYPT(hunter3)}}",
        "holds \")}}\"",
    ),
    (
        "y = {{encrypt(hunter2 {{encrypt(hunter3)}}",
        "two {{encrypt(..)}}",
    ),
    (
        "q = \"{{decrypt(QUJD)}}\" r = \"{{encrypt(hunter2)}}\"",
        "{{decrypt(..)}} marker comes before",
    ),
    ("t = \"{{ encrypt(hunter2) }}\"", "not one"),
    ("u = \"{{encrypt(hunter2)}\"", "not one"),
    (
        "w = \"{{decrypt(QUJD)}}\" x = \"{{decrypt(QUJD)}}\"",
        "cannot decrypt",
    ),
];

#[test]
fn config_encrypt_refuses_lines_boundary_misreads_and_writes_nothing() {
    let s = Scratch::new();
    let cfg = s.write("kms.hcl", aead_stanza("config", KEYS[2], "global_config"));
    for (i, (bad, why)) in MISREAD.iter().enumerate() {
        let text = format!("ok = \"{{{{encrypt(fine)}}}}\"\r\n\n{bad}\nlast = 1\n");
        let name = format!("app{i}.hcl");
        let file = s.write(&name, &text);
        let before = s.files();
        let out = s.p(&format!("out{i}.hcl"));
        for args in [
            vec!["config", "encrypt", "-c", &cfg, "--overwrite", &file],
            vec!["config", "encrypt", "-c", &cfg, "-o", &out, &file],
            vec!["config", "encrypt", "-c", &cfg, "--strip", &file],
        ] {
            let o = run(&args);
            let what = format!("{bad:?} with {args:?}");
            assert_code_for(&what, &o, 2);
            let err = stderr(&o);
            assert_one_line(&what, &err);
            assert!(err.contains(&format!("{name}:3: ")), "{what}: {err}");
            assert!(err.contains(why), "{what}: {err}");
            assert!(!err.contains("hunter"), "{what}: a value in {err}");
            assert!(o.stdout.is_empty(), "{what}");
            assert_eq!(s.read(&name), text.as_bytes(), "{what}: untouched");
            assert_eq!(s.files(), before, "{what}: nothing written");
        }
    }
    // Several bad lines: the first is named, and the others.
    let text = format!("{}\nfine = 1\n{}\n", MISREAD[0].0, MISREAD[5].0);
    let file = s.write("two.hcl", &text);
    let o = run(&["config", "encrypt", "-c", &cfg, &file]);
    assert_code_for("two bad lines", &o, 2);
    assert!(stderr(&o).contains("two.hcl:1: "), "{}", stderr(&o));
    assert!(stderr(&o).contains("(also line(s) 3)"), "{}", stderr(&o));
    // The refusal comes before the config is even used: a KMS that cannot be reached.
    let unreachable = s.write(
        "aws.hcl",
        "kms \"awskms\" {\n  purpose = \"config\"\n  region = \"us-east-1\"\n  kms_key_id = \"alias/x\"\n  endpoint = \"http://127.0.0.1:9\"\n  access_key = \"AKIAEXAMPLE\"\n  secret_key = \"example\"\n}\n",
    );
    let o = run(&["config", "encrypt", "-c", &unreachable, &file]);
    assert_code_for("refused before connecting", &o, 2);
    assert!(stderr(&o).contains("two.hcl:1: "), "{}", stderr(&o));
}

#[test]
fn greedy_lines_written_by_gkw_read_back_identically() {
    let Some(gkw_bin) = oracle("gkw") else {
        return;
    };
    let s = Scratch::new();
    let w = aead_wrapper(KEYS[0]);
    let kms_cfg = s.write("kms.hcl", &w.stanza);
    let g: Vec<&str> = w.gkw.iter().map(String::as_str).collect();
    let mut text = String::new();
    for (bad, _) in &MISREAD[..4] {
        text.push_str(bad);
        text.push('\n');
    }
    text.push_str("z = \"{{encrypt(a)}}{{encrypt(b)}}{{encrypt(c)}}\"\r\n");
    let plain = s.write("greedy.plain", &text);
    // kms refuses to write these lines...
    assert_code_for(
        "kms config encrypt",
        &run(&["config", "encrypt", "-c", &kms_cfg, &plain]),
        2,
    );
    // ...but reads Boundary's single greedy marker for each exactly as configutil does.
    let enc_path = s.p("greedy.gkw-enc");
    let mut args = vec!["config-encrypt"];
    args.extend(&g);
    let enc = gkw_ok(&gkw_bin, &args, &plain, &enc_path);
    assert_eq!(count(&enc, "{{decrypt("), 5);
    let o = run(&["config", "decrypt", "-c", &kms_cfg, &enc_path]);
    assert_code_for("kms config decrypt", &o, 0);
    assert!(o.stdout == text.as_bytes(), "greedy lines read back");
    let o = run(&["config", "decrypt", "-c", &kms_cfg, "--strip", &enc_path]);
    assert_code_for("kms config decrypt --strip", &o, 0);
    let mut args = vec!["config-decrypt"];
    args.extend(&g);
    args.push("-strip");
    let want = gkw_ok(&gkw_bin, &args, &enc_path, &s.p("greedy.gkw-strip"));
    assert!(o.stdout == want, "greedy lines strip alike");
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("z = \"a)}}{{encrypt(b)}}{{encrypt(c\"\r\n")
    );
}

#[test]
fn decrypt_refuses_what_configutil_refuses() {
    let Some(gkw_bin) = oracle("gkw") else {
        return;
    };
    let s = Scratch::new();
    let w = aead_wrapper(KEYS[1]);
    let kms_cfg = s.write("kms.hcl", &w.stanza);
    let g: Vec<&str> = w.gkw.iter().map(String::as_str).collect();
    let plain = s.write("one.plain", "v = \"{{encrypt(secret)}}\"\n");
    let mut args = vec!["config-encrypt"];
    args.extend(&g);
    let enc = String::from_utf8(gkw_ok(&gkw_bin, &args, &plain, &s.p("one.enc"))).unwrap();
    let blob = enc
        .split("{{decrypt(")
        .nth(1)
        .and_then(|r| r.split(")}}").next())
        .unwrap()
        .to_owned();
    let std_b64 = blob.replace('-', "+").replace('_', "/");
    let mut cases = vec![
        // Two markers on one line: one greedy value, not base64.
        (
            format!("a = \"{{{{decrypt({blob})}}}}\" b = \"{{{{decrypt({blob})}}}}\"\n"),
            Some("put each marker on its own line"),
        ),
        // Padding: Go's RawURLEncoding refuses it.
        (format!("a = \"{{{{decrypt({blob}==)}}}}\"\n"), None),
        (format!("a = \"{{{{decrypt( {blob})}}}}\"\n"), None),
        (format!("a = \"{{{{decrypt({blob}A)}}}}\"\n"), None),
    ];
    if std_b64 != blob {
        cases.push((format!("a = \"{{{{decrypt({std_b64})}}}}\"\n"), None));
    }
    let mut args = vec!["config-decrypt"];
    args.extend(&g);
    for (i, (text, hint)) in cases.iter().enumerate() {
        let f = s.write(&format!("bad{i}.hcl"), text);
        let (code, _) = gkw(&gkw_bin, &args, &f, &s.p(&format!("bad{i}.out")));
        assert_eq!(code, 1, "gkw refuses {text:?}");
        let o = run(&["config", "decrypt", "-c", &kms_cfg, &f]);
        assert_code_for(&format!("kms refuses {text:?}"), &o, 1);
        let err = stderr(&o);
        assert_one_line(text, &err);
        assert!(err.contains(&format!("bad{i}.hcl:1: ")), "{err}");
        if let Some(h) = hint {
            assert!(err.contains(h), "{err}");
        }
    }
    // A \r inside the value, and unused trailing bits set: Go accepts both, and so does kms.
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut tolerant = vec![format!("{}\r{}", &blob[..4], &blob[4..])];
    if blob.len() % 4 != 0 {
        let last = ALPHABET.find(&blob[blob.len() - 1..]).unwrap();
        let flipped = &ALPHABET[last ^ 1..=last ^ 1];
        tolerant.push(format!("{}{flipped}", &blob[..blob.len() - 1]));
    }
    for (i, value) in tolerant.iter().enumerate() {
        let f = s.write(
            &format!("ok{i}.hcl"),
            format!("a = \"{{{{decrypt({value})}}}}\"\n"),
        );
        let (code, err) = gkw(&gkw_bin, &args, &f, &s.p(&format!("ok{i}.out")));
        assert_eq!(code, 0, "gkw accepts {value:?}: {err}");
        let o = run(&["config", "decrypt", "-c", &kms_cfg, "--strip", &f]);
        assert_code_for(&format!("kms accepts {value:?}"), &o, 0);
        assert_eq!(o.stdout, b"a = \"secret\"\n");
    }
}

/// A config whose values `gkw config-encrypt` protected, with lines it read greedily: `kms
/// check --offline` and the oracle's `hclv1` see the same wrappers and key ids, with the
/// config's own config stanza and with `--config-kms`.
#[test]
fn loading_a_config_reads_greedy_values_as_boundary_does() {
    let (Some(gkw_bin), Some(hclv1)) = (oracle("gkw"), oracle("hclv1")) else {
        return;
    };
    let s = Scratch::new();
    let w = aead_wrapper(KEYS[2]);
    let g: Vec<&str> = w.gkw.iter().map(String::as_str).collect();
    let root = format!(
        "kms \"aead\" {{\n  purpose = \"root\"\n  aead_type = \"aes-gcm\"\n  key = \"{{{{encrypt({ROOT_KEY})}}}}\"\n  key_id = \"{{{{encrypt(a)}}}}-{{{{encrypt(b)}}}}\"\n}}\nkms \"aead\" {{\n  purpose = \"recovery\"\n  aead_type = \"aes-gcm\"\n  key = \"{ROOT_KEY}\"\n  key_id = \"{{{{encrypt(r)}}}}x)}}}}\"\n}}\n"
    );
    let kms_file = s.write("config-kms.hcl", &w.stanza);
    for (tag, text, config_kms) in [
        ("own", format!("{}{root}", w.stanza), None),
        ("separate", root.clone(), Some(kms_file.as_str())),
    ] {
        let plain = s.write(&format!("{tag}.plain.hcl"), &text);
        let enc = s.p(&format!("{tag}.hcl"));
        let mut args = vec!["config-encrypt"];
        args.extend(&g);
        gkw_ok(&gkw_bin, &args, &plain, &enc);

        let mut c = Command::new(&hclv1);
        if let Some(k) = config_kms {
            c.args(["-config-kms", k]);
        }
        c.arg(&enc).env("AWS_EC2_METADATA_DISABLED", "true");
        let o = output(c);
        assert_code_for(&format!("{tag}: hclv1"), &o, 0);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let mut want: Vec<String> = v["wrappers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| {
                format!(
                    "{} {} key_id={}",
                    w["purpose"].as_str().unwrap(),
                    w["type"].as_str().unwrap(),
                    w["key_id"].as_str().unwrap()
                )
            })
            .collect();
        want.sort();
        assert!(
            want.contains(&"root aead key_id=a)}}-{{encrypt(b".to_owned()),
            "{want:?}"
        );
        assert!(
            want.contains(&"recovery aead key_id=r)}}x".to_owned()),
            "{want:?}"
        );

        let mut args = vec!["check", "--offline", "-c", &enc];
        if let Some(k) = config_kms {
            args.extend(["--config-kms", k]);
        }
        let o = run(&args);
        assert_code_for(&format!("{tag}: kms check"), &o, 0);
        let mut got: Vec<String> = String::from_utf8(o.stdout)
            .unwrap()
            .lines()
            .filter(|l| l.contains("key_id="))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        got.sort();
        assert_eq!(got, want, "{tag}");

        // The root key decrypted from the config works: data round-trips through it.
        let data = s.write(&format!("{tag}.txt"), b"through the decrypted root key");
        let mut args = vec!["encrypt", "-c", &enc];
        if let Some(k) = config_kms {
            args.extend(["--config-kms", k]);
        }
        let out = s.p(&format!("{tag}.kms"));
        args.extend(["-o", &out, &data]);
        assert_code_for(&format!("{tag}: kms encrypt"), &run(&args), 0);
        let plain_cfg = s.write(
            &format!("{tag}.root.hcl"),
            aead_stanza("root", ROOT_KEY, "a)}}-{{encrypt(b"),
        );
        let o = run(&["decrypt", "-c", &plain_cfg, &out]);
        assert_code_for(&format!("{tag}: kms decrypt"), &o, 0);
        assert_eq!(o.stdout, b"through the decrypted root key");

        // Two {{decrypt(..)}} markers on one line (HCL v1 allows two attributes on a line):
        // Boundary reads them as one value and refuses the config; so does kms.
        let joined = std::fs::read_to_string(&enc).unwrap().replacen(
            "\"\n  key_id = \"{{decrypt(",
            "\" key_id = \"{{decrypt(",
            1,
        );
        let line = joined[..joined.find(" key_id = \"{{decrypt(").unwrap()]
            .matches('\n')
            .count()
            + 1;
        let joined_path = s.write(&format!("{tag}.joined.hcl"), &joined);
        let mut c = Command::new(&hclv1);
        if let Some(k) = config_kms {
            c.args(["-config-kms", k]);
        }
        c.arg(&joined_path).env("AWS_EC2_METADATA_DISABLED", "true");
        let o = output(c);
        assert_code_for(&format!("{tag}: hclv1 on two markers"), &o, 1);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["stage"], "decrypt", "{v}");
        let mut args = vec!["check", "--offline", "-c", &joined_path];
        if let Some(k) = config_kms {
            args.extend(["--config-kms", k]);
        }
        let o = run(&args);
        assert_code_for(&format!("{tag}: kms check on two markers"), &o, 2);
        let err = stderr(&o);
        assert_one_line(tag, &err);
        assert!(
            err.contains(&format!("{tag}.joined.hcl:{line}: ")) && err.contains("own line"),
            "{err}"
        );
    }
}

/// Without a config-purpose stanza Boundary decrypts nothing: `{{decrypt(..)}}` values stay as
/// they are. Outside the kms stanzas that is harmless and both accept the config; as a kms
/// stanza's key it is not a key, and both refuse it.
#[test]
fn without_a_config_stanza_values_stay_as_they_are() {
    let Some(hclv1) = oracle("hclv1") else {
        return;
    };
    let s = Scratch::new();
    let root = aead_stanza("root", ROOT_KEY, "r");
    let cases = [
        (
            "outside.hcl",
            format!("controller {{\n  database {{ url = \"{{{{decrypt(QUJD)}}}}\" }}\n}}\n{root}"),
            true,
        ),
        (
            "key.hcl",
            aead_stanza("root", "{{decrypt(QUJD)}}", "r"),
            false,
        ),
    ];
    for (name, text, valid) in cases {
        let f = s.write(name, &text);
        let mut c = Command::new(&hclv1);
        c.arg(&f).env("AWS_EC2_METADATA_DISABLED", "true");
        let oracle = output(c);
        assert_code_for(
            &format!("{name}: hclv1"),
            &oracle,
            if valid { 0 } else { 1 },
        );
        let o = run(&["check", "--offline", "-c", &f]);
        if valid {
            assert_code_for(&format!("{name}: kms check"), &o, 0);
            let v: serde_json::Value = serde_json::from_slice(&oracle.stdout).unwrap();
            assert_eq!(v["wrappers"][0]["key_id"], "r");
            assert!(String::from_utf8_lossy(&o.stdout).contains("key_id=r"));
        } else {
            assert_code_for(&format!("{name}: kms check"), &o, 2);
            assert!(stderr(&o).contains("give --config-kms"), "{}", stderr(&o));
        }
    }
}
