//! `--json`: one JSON object on stdout per run, success or failure, in the shapes of
//! docs/CLI.md; no key, secret or plaintext in it. And every command's `--help` ends with
//! examples.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::fs;
use std::process::Output;

use serde_json::Value;
use support::*;

/// The one JSON object of a run: stdout parses whole as one object.
fn object(what: &str, o: &Output) -> Value {
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{what}: stdout is not one JSON document ({e}): {}",
            String::from_utf8_lossy(&o.stdout)
        )
    });
    assert!(v.is_object(), "{what}: not an object: {v}");
    v
}

/// A run that must fail with `code`: the object says so, with the same code and the message
/// that stderr also carries.
fn failed(what: &str, o: &Output, code: i32) -> Value {
    assert_code_for(what, o, code);
    let v = object(what, o);
    assert_eq!(v["ok"], false, "{what}: {v}");
    assert_eq!(v["error"]["exit_code"], code, "{what}: {v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(!message.is_empty(), "{what}");
    assert!(
        stderr(o).contains(message.lines().next().unwrap()),
        "{what}: stderr {} vs {message}",
        stderr(o)
    );
    v
}

fn no_secret(what: &str, o: &Output, secrets: &[&[u8]]) {
    for s in secrets {
        let all = [o.stdout.as_slice(), o.stderr.as_slice()].concat();
        assert!(
            !all.windows(s.len()).any(|w| w == *s),
            "{what}: a secret was shown: {}",
            String::from_utf8_lossy(s)
        );
    }
}

#[test]
fn check_offline_lists_wrappers_settings_with_sources_and_redacts_secrets() {
    let s = Scratch::new();
    let cfg = s.write(
        "kms.hcl",
        aead_config(&[("root", KEY_A, "k1"), ("recovery", KEY_B, "k2")])
            // Boundary accepts and ignores a block without a purpose: a warning.
            + "kms \"aead\" {\n  key = \"x\"\n}\n",
    );
    let o = run(&["check", "--offline", "--json", "-c", &cfg]);
    assert_code_for("check --offline --json", &o, 0);
    assert!(
        o.stderr.is_empty(),
        "warnings go into the object: {}",
        stderr(&o)
    );
    no_secret("check", &o, &[KEY_A.as_bytes(), KEY_B.as_bytes()]);
    let v = object("check", &o);
    assert_eq!(v["ok"], true);
    assert_eq!(v["offline"], true);
    assert_eq!(v["file"], cfg.as_str());
    assert!(v.get("error").is_none());
    let warnings = v["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{v}");
    assert!(warnings[0].as_str().unwrap().contains("purpose"), "{v}");
    let wrappers = v["wrappers"].as_array().unwrap();
    assert_eq!(wrappers.len(), 2);
    for (w, (purpose, id)) in wrappers.iter().zip([("root", "k1"), ("recovery", "k2")]) {
        assert_eq!(w["purpose"], purpose);
        assert_eq!(w["type"], "aead");
        assert_eq!(w["key_id"], id);
        assert!(w["line"].as_u64().unwrap() >= 1);
        assert!(w["online"].is_null(), "offline: {w}");
        let settings = w["settings"].as_array().unwrap();
        let get = |n: &str| {
            settings
                .iter()
                .find(|x| x["name"] == n)
                .unwrap_or_else(|| panic!("{n} in {w}"))
        };
        let key = get("key");
        assert_eq!(key["redacted"], true);
        assert!(key["value"].is_null());
        assert_eq!(key["source"], "stanza");
        assert_eq!(get("key_id")["value"], id);
        assert_eq!(get("key_id")["redacted"], false);
        assert_eq!(get("aead_type")["value"], "aes-gcm");
        assert!(get("aead_type")["env_var"].is_null());
    }
}

#[test]
fn check_online_reports_each_round_trip() {
    let (_s, cfg) = aead_scratch();
    let o = run(&["check", "--json", "-c", &cfg]);
    assert_code_for("check --json", &o, 0);
    no_secret("check", &o, &[KEY_A.as_bytes()]);
    let v = object("check", &o);
    assert_eq!(v["ok"], true);
    assert_eq!(v["offline"], false);
    let online = &v["wrappers"][0]["online"];
    assert_eq!(online["ok"], true, "{v}");
    assert_eq!(online["resolved_key_id"], "k1");
}

#[test]
fn check_strict_and_invalid_configs_fail_with_an_error_object() {
    let s = Scratch::new();
    let warned = s.write(
        "warned.hcl",
        aead_config(&[("root", KEY_A, "k1")]) + "kms \"aead\" {\n  key = \"x\"\n}\n",
    );
    let o = run(&["check", "--offline", "--strict", "--json", "-c", &warned]);
    let v = failed("check --strict", &o, 2);
    assert_eq!(v["warnings"].as_array().unwrap().len(), 1);
    assert_eq!(v["wrappers"][0]["key_id"], "k1", "still described: {v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("--strict"));

    let bad = s.write(
        "bad.hcl",
        "kms \"aead\" {\n  purpose = \"root\"\n  key = \"not base64!\"\n}\n",
    );
    let o = run(&["check", "--offline", "--json", "-c", &bad]);
    let v = failed("check invalid", &o, 2);
    assert!(v["error"]["message"].as_str().unwrap().contains("bad.hcl"));
    let o = run(&["check", "--json", "-c", &s.p("missing.hcl")]);
    failed("check missing", &o, 2);
}

/// Every wrapper is tried online, after one failed; the first failure decides the exit code.
#[test]
fn check_online_failures_are_per_wrapper() {
    let s = Scratch::new();
    let stanza = |purpose: &str| {
        format!("kms \"awskms\" {{\n  purpose = \"{purpose}\"\n  region = \"eu-west-3\"\n  kms_key_id = \"alias/x\"\n  endpoint = \"http://user:EndpointPassw0rd@127.0.0.1:9\"\n  access_key = \"AKIAEXAMPLE\"\n  secret_key = \"wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\"\n}}\n")
    };
    let cfg = s.write("aws.hcl", stanza("root") + &stanza("recovery"));
    let o = run(&["check", "--json", "-c", &cfg]);
    no_secret(
        "check aws",
        &o,
        &[
            b"EndpointPassw0rd",
            b"wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY",
        ],
    );
    let v = failed("check aws unreachable", &o, 1);
    // Outside `kms check`, the next step is to run it.
    let out = s.p("out");
    let plain = s.write("plain", b"x");
    let e = run(&["encrypt", "-c", &cfg, "-o", &out, "--json", &plain]);
    let ev = failed("encrypt aws unreachable", &e, 1);
    let want = format!("run `kms check -c {cfg}` to test each key");
    assert!(
        ev["error"]["message"].as_str().unwrap().ends_with(&want),
        "{ev}"
    );
    assert_eq!(v["wrappers"].as_array().unwrap().len(), 2, "{v}");
    for w in v["wrappers"].as_array().unwrap() {
        assert_eq!(w["online"]["ok"], false, "{w}");
        assert!(w["online"]["error"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1:9"));
        let endpoint = w["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == "endpoint")
            .unwrap();
        assert_eq!(endpoint["value"], "http://REDACTED@127.0.0.1:9");
        assert_eq!(endpoint["redacted"], true);
    }
}

#[test]
fn check_shows_settings_from_the_environment_with_their_variable() {
    let s = Scratch::new();
    let cfg = s.write(
        "aws.hcl",
        "kms \"awskms\" {\n  purpose = \"root\"\n  kms_key_id = \"alias/x\"\n}\n",
    );
    let mut c = kms();
    c.args(["check", "--offline", "--json", "-c", &cfg])
        .env("AWS_REGION", "eu-north-1")
        .env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "SecretFromTheEnvironmentCanary");
    let o = output(c);
    assert_code_for("check env", &o, 0);
    no_secret("check env", &o, &[b"SecretFromTheEnvironmentCanary"]);
    let v = object("check env", &o);
    let settings = v["wrappers"][0]["settings"].as_array().unwrap().clone();
    let region = settings.iter().find(|x| x["name"] == "region").unwrap();
    assert_eq!(region["value"], "eu-north-1");
    assert_eq!(region["source"], "env");
    assert_eq!(region["env_var"], "AWS_REGION");
    let secret = settings.iter().find(|x| x["name"] == "secret_key").unwrap();
    assert_eq!(secret["redacted"], true);
    assert!(secret["value"].is_null());
    assert_eq!(secret["env_var"], "AWS_SECRET_ACCESS_KEY");
}

#[test]
fn encrypt_and_decrypt_report_paths_sizes_and_keys() {
    let s = Scratch::new();
    let cfg = s.write(
        "kms.hcl",
        aead_config(&[("root", KEY_A, "k1"), ("recovery", KEY_B, "k2")]),
    );
    let plaintext = b"PlaintextCanary that must never be shown\n".repeat(3000);
    let plain = s.write("plain", &plaintext);
    let ct = s.p("plain.kms");
    let o = run(&[
        "encrypt", "-c", &cfg, "--also", "recovery", "-o", &ct, "--json", &plain,
    ]);
    assert_code_for("encrypt --json", &o, 0);
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
    no_secret("encrypt", &o, &[KEY_A.as_bytes(), b"PlaintextCanary"]);
    let v = object("encrypt", &o);
    assert_eq!(v["ok"], true);
    assert_eq!(v["operation"], "encrypt");
    assert_eq!(v["format"], "kms-stream");
    assert_eq!(v["purpose"], "root");
    assert_eq!(v["input"]["path"], plain.as_str());
    assert_eq!(v["input"]["bytes"], plaintext.len());
    assert_eq!(v["output"]["path"], ct.as_str());
    assert_eq!(v["output"]["bytes"], fs::metadata(&ct).unwrap().len());
    let keys: Vec<(String, String, String)> = v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let f = |n: &str| k[n].as_str().unwrap().to_owned();
            (f("purpose"), f("type"), f("key_id"))
        })
        .collect();
    assert_eq!(
        keys,
        [
            ("root".into(), "aead".into(), "k1".into()),
            ("recovery".into(), "aead".into(), "k2".into())
        ]
    );

    let back = s.p("back");
    let o = run(&["decrypt", "-c", &cfg, "-o", &back, "--json", &ct]);
    assert_code_for("decrypt --json", &o, 0);
    no_secret("decrypt", &o, &[KEY_A.as_bytes(), b"PlaintextCanary"]);
    let v = object("decrypt", &o);
    assert_eq!(v["operation"], "decrypt");
    assert_eq!(v["format"], "kms-stream");
    assert_eq!(v["purpose"], "root");
    assert_eq!(v["input"]["bytes"], fs::metadata(&ct).unwrap().len());
    assert_eq!(v["output"]["path"], back.as_str());
    assert_eq!(v["output"]["bytes"], plaintext.len());
    assert_eq!(v["recorded_keys"][0]["key_id"], "k1");
    assert_eq!(v["recorded_keys"][1]["key_id"], "k2");
    assert_eq!(v["recorded_keys"][1]["type"], "aead");
    assert_eq!(s.read("back"), plaintext);

    // From stdin: the input path is null and its size still counted.
    let o = run_stdin(
        &["decrypt", "-c", &cfg, "-o", &back, "--json"],
        &fs::read(&ct).unwrap(),
    );
    assert_code_for("decrypt --json stdin", &o, 0);
    let v = object("decrypt stdin", &o);
    assert!(v["input"]["path"].is_null());
    assert_eq!(v["input"]["bytes"], fs::metadata(&ct).unwrap().len());
}

#[test]
fn encrypt_value_puts_the_value_in_the_object_and_decrypt_reads_it_back() {
    let (s, cfg) = aead_scratch();
    let o = run_stdin(
        &["encrypt", "-c", &cfg, "--value", "--json"],
        b"ValueCanary",
    );
    assert_code_for("encrypt --value --json", &o, 0);
    no_secret("encrypt --value", &o, &[KEY_A.as_bytes(), b"ValueCanary"]);
    let v = object("encrypt --value", &o);
    assert_eq!(v["format"], "blobinfo");
    assert_eq!(v["encoding"], "base64url");
    assert!(v["output"].is_null());
    assert_eq!(v["input"]["bytes"], 11);
    assert_eq!(v["keys"].as_array().unwrap().len(), 1);
    assert_eq!(v["keys"][0]["key_id"], "k1");
    let value = s.write("value", v["value"].as_str().unwrap());
    let back = s.p("back");
    let o = run(&["decrypt", "-c", &cfg, "-o", &back, "--json", &value]);
    assert_code_for("decrypt value --json", &o, 0);
    no_secret("decrypt value", &o, &[b"ValueCanary"]);
    let v = object("decrypt value", &o);
    assert_eq!(v["format"], "blobinfo");
    assert_eq!(v["output"]["bytes"], 11);
    assert_eq!(v["recorded_keys"][0]["key_id"], "k1");
    assert_eq!(s.read("back"), b"ValueCanary");

    // With -o the value goes to the file and the object names it.
    let out = s.p("value.bin");
    let o = run_stdin(
        &[
            "encrypt", "-c", &cfg, "--value", "--binary", "-o", &out, "--json",
        ],
        b"ValueCanary",
    );
    assert_code_for("encrypt --value --binary -o --json", &o, 0);
    let v = object("encrypt --value -o", &o);
    assert_eq!(v["encoding"], "binary");
    assert!(v.get("value").is_none(), "{v}");
    assert_eq!(v["output"]["bytes"], fs::metadata(&out).unwrap().len());
}

#[test]
fn json_failures_are_one_object_with_the_exit_code() {
    let (s, cfg) = aead_scratch();
    let plain = s.write("plain", b"PlaintextCanary");
    // The data would share stdout with the object: refused before anything is read.
    let o = run(&["encrypt", "-c", &cfg, "--json", &plain]);
    failed("encrypt --json without -o", &o, 2);
    let ct = s.p("plain.kms");
    run_args_ok(&["encrypt", "-c", &cfg, "-o", &ct, &plain]);
    let o = run(&["decrypt", "-c", &cfg, "--json", &ct]);
    let v = failed("decrypt --json without -o", &o, 2);
    assert!(v["error"]["message"].as_str().unwrap().contains("-o"));
    no_secret("decrypt --json without -o", &o, &[b"PlaintextCanary"]);
    let o = run_stdin(
        &["encrypt", "-c", &cfg, "--value", "--binary", "--json"],
        b"x",
    );
    failed("encrypt --value --binary --json without -o", &o, 2);

    // A wrong key: exit 1, no output file.
    let other = s.write("other.hcl", aead_config(&[("root", KEY_B, "k1")]));
    let o = run(&["decrypt", "-c", &other, "-o", &s.p("back"), "--json", &ct]);
    let v = failed("decrypt wrong key", &o, 1);
    assert!(!s.exists("back"));
    // The next step names the config and the rotation fix (docs/ERRORS.md).
    let message = v["error"]["message"].as_str().unwrap();
    for want in [
        "decryption failed",
        "other.hcl as a kms stanza with purpose \"previous-root\"",
        "kms inspect",
    ] {
        assert!(message.contains(want), "{want}: {message}");
    }

    // Usage errors found by argument parsing too.
    let o = run(&["encrypt", "--json", "--no-such-flag"]);
    failed("unknown flag", &o, 2);

    // inspect --json of something that is not a ciphertext.
    let o = run(&["inspect", "--json", &plain]);
    failed("inspect --json of plaintext", &o, 1);
}

/// Every command and subcommand's `--help` ends with an Examples section of `kms` lines
/// for that command.
#[test]
fn every_help_has_examples() {
    let commands: &[&[&str]] = &[
        &[],
        &["keygen"],
        &["encrypt"],
        &["decrypt"],
        &["inspect"],
        &["check"],
        &["rewrap"],
        &["clean"],
        &["config"],
        &["config", "encrypt"],
        &["config", "decrypt"],
        &["completions"],
    ];
    // Every visible command is in the list.
    let top = String::from_utf8(run_args_ok(&["--help"])).unwrap();
    let listed = top
        .split_once("Commands:\n")
        .unwrap()
        .1
        .lines()
        .take_while(|l| l.starts_with("  "))
        // A wrapped description continues on a deeper-indented line.
        .filter(|l| !l[2..].starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help");
    for c in listed {
        assert!(commands.iter().any(|x| x.first() == Some(&c)), "{c}");
    }
    for cmd in commands {
        let mut args = cmd.to_vec();
        args.push("--help");
        let help = String::from_utf8(run_args_ok(&args)).unwrap();
        let (_, examples) = help
            .split_once("\nExamples:\n")
            .unwrap_or_else(|| panic!("kms {}: no Examples section: {help}", cmd.join(" ")));
        let prefix = format!("  kms {}", cmd.join(" "));
        assert!(
            examples.lines().any(|l| l.starts_with(prefix.trim_end())),
            "kms {}: no example of it: {examples}",
            cmd.join(" ")
        );
    }
}
