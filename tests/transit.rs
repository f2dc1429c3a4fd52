//! The `kms` binary with `kms "transit"` stanzas against a real OpenBao (`bao server -dev`,
//! started here): files and values, inspect, rotation and rewrap, check with sources, the
//! environment against the stanza, refusals by policy and by min_decryption_version, a
//! namespace, TLS, a server gone, config values, and the token in no output at any log level.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::process::Output;

use kms_testsupport::openbao::OpenBao;
use support::{
    assert_code, assert_code_for, assert_one_line, inspect_keys, kms, output, stderr, Scratch,
};

fn stanza(purpose: &str, bao: &OpenBao, key: &str, extra: &str) -> String {
    format!(
        "kms \"transit\" {{\n  purpose = \"{purpose}\"\n  address = \"{}\"\n  token = \"{}\"\n  mount_path = \"transit/\"\n  key_name = \"{key}\"\n{extra}}}\n",
        bao.address(),
        bao.root_token()
    )
}

fn run_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = kms();
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    output(c)
}

fn run(args: &[&str]) -> Output {
    run_env(args, &[])
}

fn ok(args: &[&str]) -> Output {
    let o = run(args);
    assert_code_for(&args.join(" "), &o, 0);
    o
}

fn inspect_json(path: &str) -> serde_json::Value {
    let o = ok(&["inspect", "--json", path]);
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn files_values_inspect_check_and_rewrap_after_rotation() {
    let Some(bao) = OpenBao::start() else { return };
    let s = Scratch::new();
    let cfg = s.write("kms.hcl", stanza("root", &bao, "k1", ""));
    let pt: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let input = s.write("plain.bin", &pt);

    ok(&["encrypt", "-q", "-c", &cfg, "-o", &s.p("a.kms"), &input]);
    assert_eq!(
        inspect_keys(&s.p("a.kms")),
        vec![("transit".into(), "v1".into())]
    );
    let o = ok(&["decrypt", "-c", &cfg, &s.p("a.kms")]);
    assert_eq!(o.stdout, pt);

    // A value: the wrapper's layout, and inspect names transit.
    let v = s.write("secret.txt", "db-password");
    let o = ok(&["encrypt", "--value", "-c", &cfg, &v]);
    let blob = s.write("secret.blob", &o.stdout);
    let info = inspect_json(&blob);
    assert_eq!(info["backend_kind"], "transit", "{info}");
    assert_eq!(info["wrapped_keys"][0]["key_id"], "v1", "{info}");
    let o = ok(&["decrypt", "-c", &cfg, &blob]);
    assert_eq!(o.stdout, b"db-password");

    // check: online shows the resolved key and the sources; offline too; never the token.
    let o = ok(&["check", "-c", &cfg]);
    let out = String::from_utf8_lossy(&o.stdout);
    for want in [
        "resolved_key=v1",
        &format!("address={} [stanza]", bao.address()),
        "key_name=k1 [stanza]",
        "token=(set) [stanza]",
        "round_trip=ok",
    ] {
        assert!(out.contains(want), "missing {want:?} in {out}");
    }
    let off = ok(&["check", "--offline", "-c", &cfg]);
    let off_out = String::from_utf8_lossy(&off.stdout);
    assert!(
        off_out.contains("mount_path=transit/ [stanza]"),
        "{off_out}"
    );
    for o in [&o, &off] {
        assert!(!String::from_utf8_lossy(&o.stdout).contains(bao.root_token()));
        assert!(!stderr(o).contains(bao.root_token()));
    }

    // Rotate: new data goes to v2, old data still opens, rewrap -r moves the tree.
    assert_eq!(bao.rotate("k1"), 2);
    std::fs::create_dir(s.path("tree")).unwrap();
    std::fs::rename(s.path("a.kms"), s.path("tree/a.kms")).unwrap();
    ok(&[
        "encrypt",
        "-q",
        "-c",
        &cfg,
        "-o",
        &s.p("tree/b.kms"),
        &input,
    ]);
    assert_eq!(
        inspect_keys(&s.p("tree/b.kms")),
        vec![("transit".into(), "v2".into())]
    );
    let before = std::fs::read(s.path("tree/a.kms")).unwrap();
    let o = ok(&["rewrap", "-q", "-r", "-c", &cfg, &s.p("tree")]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("v1 -> v2"), "{out}");
    assert_eq!(
        inspect_keys(&s.p("tree/a.kms")),
        vec![("transit".into(), "v2".into())]
    );
    let after = std::fs::read(s.path("tree/a.kms")).unwrap();
    assert_eq!(
        after[after.len() - 290_000..],
        before[before.len() - 290_000..],
        "only the header changes"
    );
    let o = ok(&["decrypt", "-c", &cfg, &s.p("tree/a.kms")]);
    assert_eq!(o.stdout, pt);
    // Current now: a second run changes nothing.
    ok(&["rewrap", "-q", "-r", "-c", &cfg, &s.p("tree")]);
    assert_eq!(std::fs::read(s.path("tree/a.kms")).unwrap(), after);
    // The v1 value still decrypts, and rewraps to v2.
    let o = ok(&["decrypt", "-c", &cfg, &blob]);
    assert_eq!(o.stdout, b"db-password");
    ok(&["rewrap", "-q", "-c", &cfg, &blob]);
    assert_eq!(inspect_json(&blob)["wrapped_keys"][0]["key_id"], "v2");
    let o = ok(&["decrypt", "-c", &cfg, &blob]);
    assert_eq!(o.stdout, b"db-password");
}

#[test]
fn environment_against_the_stanza() {
    let Some(bao) = OpenBao::builder().key("k1").key("k2").start() else {
        return;
    };
    let s = Scratch::new();
    let input = s.write("plain.txt", "env precedence");
    let explicit = s.write("k1.hcl", stanza("root", &bao, "k1", ""));
    // Address, token and key name from the environment; TRANSIT_WRAPPER_KEY_NAME wins over
    // VAULT_TRANSIT_SEAL_KEY_NAME and over the stanza's key_name.
    let cfg = s.write(
        "env.hcl",
        "kms \"transit\" {\n  purpose = \"root\"\n  mount_path = \"transit/\"\n  key_name = \"k2\"\n}\n",
    );
    let env = [
        ("VAULT_ADDR", bao.address()),
        ("VAULT_TOKEN", bao.root_token()),
        ("TRANSIT_WRAPPER_KEY_NAME", "k1"),
        ("VAULT_TRANSIT_SEAL_KEY_NAME", "k2"),
    ];
    let o = run_env(&["check", "--offline", "-c", &cfg], &env);
    assert_code(&o, 0);
    let out = String::from_utf8_lossy(&o.stdout);
    for want in [
        format!("address={} [env VAULT_ADDR]", bao.address()),
        "key_name=k1 [env TRANSIT_WRAPPER_KEY_NAME]".to_owned(),
        "token=(set) [env VAULT_TOKEN]".to_owned(),
        "mount_path=transit/ [stanza]".to_owned(),
    ] {
        assert!(out.contains(&want), "missing {want:?} in {out}");
    }
    assert!(!out.contains(bao.root_token()));
    let o = run_env(
        &["encrypt", "-q", "-c", &cfg, "-o", &s.p("e.kms"), &input],
        &env,
    );
    assert_code(&o, 0);
    // It went to k1: the stanza naming k1 opens it, one naming k2 does not.
    let o = ok(&["decrypt", "-c", &explicit, &s.p("e.kms")]);
    assert_eq!(o.stdout, b"env precedence");
    let k2 = s.write("k2.hcl", stanza("root", &bao, "k2", ""));
    let o = run(&["decrypt", "-c", &k2, &s.p("e.kms")]);
    assert_code(&o, 1);
    // VAULT_TRANSIT_SEAL_KEY_NAME alone also wins over the stanza.
    let o = run_env(
        &["check", "--offline", "-c", &cfg],
        &[("VAULT_TRANSIT_SEAL_KEY_NAME", "k1")],
    );
    assert!(String::from_utf8_lossy(&o.stdout)
        .contains("key_name=k1 [env VAULT_TRANSIT_SEAL_KEY_NAME]"));

    // The stanza's address and token win over VAULT_ADDR and VAULT_TOKEN.
    let o = run_env(
        &[
            "encrypt",
            "-q",
            "-c",
            &explicit,
            "-o",
            &s.p("s.kms"),
            &input,
        ],
        &[
            ("VAULT_ADDR", "http://127.0.0.1:1"),
            ("VAULT_TOKEN", "not-the-token"),
        ],
    );
    assert_code(&o, 0);
    // Mount path and namespace: the variables win over the stanza.
    let o = run_env(
        &["check", "--offline", "-c", &explicit],
        &[
            ("TRANSIT_WRAPPER_MOUNT_PATH", "other/"),
            ("VAULT_NAMESPACE", "team-b"),
            ("TRANSIT_WRAPPER_DISABLE_RENEWAL", "true"),
        ],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    for want in [
        "mount_path=other/ [env TRANSIT_WRAPPER_MOUNT_PATH]",
        "namespace=team-b [env VAULT_NAMESPACE]",
        "disable_renewal=true [env TRANSIT_WRAPPER_DISABLE_RENEWAL]",
    ] {
        assert!(out.contains(want), "missing {want:?} in {out}");
    }
    // VAULT_CACERT applies only when the stanza has no tls_*.
    let tls = s.write(
        "tls.hcl",
        stanza("root", &bao, "k1", "  tls_server_name = \"bao.example\"\n"),
    );
    let o = run_env(
        &["check", "--offline", "-c", &tls],
        &[("VAULT_CACERT", "/env/ca.pem")],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("server_name=bao.example [stanza]") && !out.contains("/env/ca.pem"),
        "{out}"
    );
    let o = run_env(
        &["check", "--offline", "-c", &explicit],
        &[("VAULT_CACERT", "/env/ca.pem")],
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("ca_cert=/env/ca.pem [env VAULT_CACERT]"));
    // No key name anywhere: a config error, exit 2, naming the attribute.
    let none = s.write(
        "none.hcl",
        "kms \"transit\" {\n  purpose = \"root\"\n  mount_path = \"transit/\"\n}\n",
    );
    let o = run(&["check", "--offline", "-c", &none]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("key_name"), "{}", stderr(&o));
}

#[test]
fn min_decryption_version_refusal_names_key_and_versions() {
    let Some(bao) = OpenBao::start() else { return };
    let s = Scratch::new();
    let cfg = s.write("kms.hcl", stanza("root", &bao, "k1", ""));
    let input = s.write("p.txt", "old data");
    ok(&["encrypt", "-q", "-c", &cfg, "-o", &s.p("old.kms"), &input]);
    bao.rotate("k1");
    bao.set_min_decryption_version("k1", 2);
    let o = run(&[
        "decrypt",
        "-c",
        &cfg,
        "-o",
        &s.p("out.txt"),
        &s.p("old.kms"),
    ]);
    assert_code(&o, 1);
    let err = stderr(&o);
    assert_one_line("min_decryption_version", &err);
    assert!(
        err.contains("\"k1\"")
            && err.contains("min_decryption_version is 2")
            && err.contains("latest version 2"),
        "{err}"
    );
    assert!(!s.exists("out.txt"));
    // Rewrap cannot move it either, and says why.
    let o = run(&["rewrap", "-q", "-c", &cfg, &s.p("old.kms")]);
    assert_code(&o, 1);
    let err = stderr(&o);
    assert!(err.contains("min_decryption_version is 2"), "{err}");
}

#[test]
fn a_token_without_decrypt_is_refused_naming_path_and_source() {
    let Some(bao) = OpenBao::start() else { return };
    bao.policy(
        "enc-only",
        r#"path "transit/encrypt/k1" { capabilities = ["update"] }
path "auth/token/renew-self" { capabilities = ["update"] }"#,
    );
    let token = bao.token(&["enc-only"], None);
    let s = Scratch::new();
    let cfg = s.write(
        "kms.hcl",
        format!(
            "kms \"transit\" {{\n  purpose = \"root\"\n  address = \"{}\"\n  mount_path = \"transit/\"\n  key_name = \"k1\"\n}}\n",
            bao.address()
        ),
    );
    let env = [("VAULT_TOKEN", token.as_str())];
    let input = s.write("p.txt", "policy");
    let o = run_env(
        &["encrypt", "-q", "-c", &cfg, "-o", &s.p("e.kms"), &input],
        &env,
    );
    assert_code(&o, 0);
    let o = run_env(&["decrypt", "-c", &cfg, &s.p("e.kms")], &env);
    assert_code(&o, 1);
    assert!(o.stdout.is_empty());
    let err = stderr(&o);
    assert_one_line("decrypt without permission", &err);
    assert!(
        err.contains("permission denied")
            && err.contains("transit/decrypt/k1")
            && err.contains("token from env VAULT_TOKEN"),
        "{err}"
    );
    assert!(!err.contains(&token));
    // The same token in the stanza: the message says so.
    let tok_file = s.write("token", &token);
    let cfg2 = s.write(
        "kms2.hcl",
        format!(
            "kms \"transit\" {{\n  purpose = \"root\"\n  address = \"{}\"\n  token = \"file://{tok_file}\"\n  mount_path = \"transit/\"\n  key_name = \"k1\"\n}}\n",
            bao.address()
        ),
    );
    let o = run(&["decrypt", "-c", &cfg2, &s.p("e.kms")]);
    assert_code(&o, 1);
    assert!(stderr(&o).contains("token from stanza"), "{}", stderr(&o));
}

#[test]
fn namespace_from_the_stanza() {
    let Some(bao) = OpenBao::start() else { return };
    bao.namespace("team-a", &["nk"]);
    let s = Scratch::new();
    let cfg = s.write(
        "kms.hcl",
        stanza("root", &bao, "nk", "  namespace = \"team-a\"\n"),
    );
    let input = s.write("p.txt", "namespaced");
    ok(&["encrypt", "-q", "-c", &cfg, "-o", &s.p("e.kms"), &input]);
    let o = ok(&["decrypt", "-c", &cfg, &s.p("e.kms")]);
    assert_eq!(o.stdout, b"namespaced");
    let o = ok(&["check", "-c", &cfg]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("namespace=team-a [stanza]"));
    // The key lives only in the namespace: without it, decrypt fails.
    let root_ns = s.write("root.hcl", stanza("root", &bao, "nk", ""));
    let o = run(&["decrypt", "-c", &root_ns, &s.p("e.kms")]);
    assert_code(&o, 1);
}

#[test]
fn tls_with_the_servers_ca_and_a_wrong_ca_refused() {
    let Some(bao) = OpenBao::builder().tls(true).key("k1").start() else {
        return;
    };
    let Some(other) = OpenBao::builder().tls(true).start() else {
        return;
    };
    let s = Scratch::new();
    let ca = bao.ca_cert().unwrap().display().to_string();
    let cfg = s.write(
        "kms.hcl",
        stanza("root", &bao, "k1", &format!("  tls_ca_cert = \"{ca}\"\n")),
    );
    let input = s.write("p.txt", "over tls");
    ok(&["encrypt", "-q", "-c", &cfg, "-o", &s.p("e.kms"), &input]);
    let o = ok(&["decrypt", "-c", &cfg, &s.p("e.kms")]);
    assert_eq!(o.stdout, b"over tls");
    // VAULT_CACERT when the stanza has no tls_*.
    let plain = s.write("plain.hcl", stanza("root", &bao, "k1", ""));
    let o = run_env(
        &["decrypt", "-c", &plain, &s.p("e.kms")],
        &[("VAULT_CACERT", &ca)],
    );
    assert_code(&o, 0);
    // Another server's CA: refused, exit 1, one line naming TLS and the address.
    let wrong = other.ca_cert().unwrap().display().to_string();
    let bad = s.write(
        "bad.hcl",
        stanza(
            "root",
            &bao,
            "k1",
            &format!("  tls_ca_cert = \"{wrong}\"\n"),
        ),
    );
    let o = run(&["decrypt", "-c", &bad, &s.p("e.kms")]);
    assert_code(&o, 1);
    let err = stderr(&o);
    assert_one_line("wrong CA", &err);
    assert!(err.contains("TLS") && err.contains(bao.address()), "{err}");
    assert!(o.stdout.is_empty());
}

#[test]
fn server_gone_is_exit_1_with_no_output() {
    let Some(mut bao) = OpenBao::start() else {
        return;
    };
    let s = Scratch::new();
    let cfg = s.write("kms.hcl", stanza("root", &bao, "k1", ""));
    let input = s.write("p.bin", vec![5u8; 100_000]);
    ok(&["encrypt", "-q", "-c", &cfg, "-o", &s.p("e.kms"), &input]);
    let v = s.write("v.txt", "value");
    let o = ok(&["encrypt", "--value", "-c", &cfg, &v]);
    let blob = s.write("v.blob", &o.stdout);
    bao.stop();
    for args in [
        vec!["decrypt", "-c", &cfg, "-o", &s.p("out.bin"), &s.p("e.kms")],
        vec!["decrypt", "-c", &cfg, &s.p("e.kms")],
        vec!["decrypt", "-c", &cfg, &blob],
        vec!["encrypt", "-q", "-c", &cfg, "-o", &s.p("new.kms"), &input],
    ] {
        let o = run(&args);
        assert_code_for(&args.join(" "), &o, 1);
        let err = stderr(&o);
        assert_one_line("server gone", &err);
        assert!(
            err.contains(bao.address()) && err.contains("unavailable"),
            "{err}"
        );
        assert!(o.stdout.is_empty(), "no partial output");
    }
    assert!(!s.exists("out.bin") && !s.exists("new.kms"));
    assert!(support::temp_files(&s).is_empty());
}

#[test]
fn config_values_with_a_transit_config_stanza() {
    let Some(bao) = OpenBao::start() else { return };
    let s = Scratch::new();
    let kms_cfg = s.write("kms.hcl", stanza("config", &bao, "k1", ""));
    let original = "controller {\n  database { url = \"{{encrypt(postgres://u:pw@h/db)}}\" }\n}\n";
    let file = s.write("controller.hcl", original);
    let enc = ok(&["config", "encrypt", "-c", &kms_cfg, &file]);
    let encrypted = String::from_utf8(enc.stdout).unwrap();
    assert!(
        encrypted.contains("{{decrypt(") && !encrypted.contains("pw@h"),
        "{encrypted}"
    );
    let efile = s.write("controller.enc.hcl", &encrypted);
    let dec = ok(&["config", "decrypt", "-c", &kms_cfg, &efile]);
    assert_eq!(String::from_utf8(dec.stdout).unwrap(), original);
}

#[test]
fn the_token_is_in_no_output_at_trace() {
    let Some(bao) = OpenBao::start() else { return };
    bao.policy(
        "all",
        r#"path "transit/*" { capabilities = ["create", "read", "update"] }
path "auth/token/renew-self" { capabilities = ["update"] }"#,
    );
    let token = bao.token(&["all"], None);
    let s = Scratch::new();
    let cfg = s.write(
        "kms.hcl",
        format!(
            "kms \"transit\" {{\n  purpose = \"root\"\n  address = \"{}\"\n  token = \"{token}\"\n  mount_path = \"transit/\"\n  key_name = \"k1\"\n}}\n",
            bao.address()
        ),
    );
    let input = s.write("p.txt", "canary-plaintext-0xC0FFEE");
    let trace = [("RUST_LOG", "trace")];
    let mut outputs = Vec::new();
    for args in [
        vec!["check", "-c", &cfg],
        vec!["check", "--offline", "-c", &cfg],
        vec!["encrypt", "-q", "-c", &cfg, "-o", &s.p("e.kms"), &input],
        vec!["decrypt", "-c", &cfg, "-o", &s.p("d.txt"), &s.p("e.kms")],
        vec![
            "encrypt",
            "--value",
            "-c",
            &cfg,
            "-o",
            &s.p("v.blob"),
            &input,
        ],
        vec!["decrypt", "-c", &cfg, "-o", &s.p("v.txt"), &s.p("v.blob")],
        vec!["rewrap", "-q", "--verify", "-c", &cfg, &s.p("e.kms")],
    ] {
        let o = run_env(&args, &trace);
        assert_code_for(&args.join(" "), &o, 0);
        outputs.push(o);
    }
    // And when refused: a revoked token.
    bao.cli_ok(&["token", "revoke", &token]);
    let o = run_env(&["decrypt", "-c", &cfg, &s.p("e.kms")], &trace);
    assert_code(&o, 1);
    outputs.push(o);
    let token_b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &token);
    let mut traced = false;
    for o in &outputs {
        let all = [o.stdout.as_slice(), o.stderr.as_slice()].concat();
        let text = String::from_utf8_lossy(&all);
        traced |= text.contains("TRACE") || text.contains("DEBUG");
        assert!(!text.contains(&token), "token in output: {text}");
        assert!(!text.contains("canary-plaintext"), "plaintext in output");
        // Nor the token's base64 or the plaintext's.
        assert!(!text.contains(&token_b64), "base64 token in output");
        assert!(
            !text.contains("Y2FuYXJ5LXBsYWludGV4dC"),
            "base64 plaintext in output"
        );
    }
    assert!(traced, "trace logging was on");
    assert_eq!(s.read("d.txt"), b"canary-plaintext-0xC0FFEE");
}

/// After a rotation, `rewrap -r` moves files and values with a token that may not decrypt at
/// all: transit/rewrap only, the data keys and values never leave the server.
#[test]
fn rewrap_after_rotation_needs_no_decrypt_permission() {
    let Some(bao) = OpenBao::start() else { return };
    bao.policy(
        "rewrap-only",
        r#"path "transit/encrypt/k1" { capabilities = ["update"] }
path "transit/rewrap/k1" { capabilities = ["update"] }
path "auth/token/renew-self" { capabilities = ["update"] }"#,
    );
    let token = bao.token(&["rewrap-only"], None);
    let s = Scratch::new();
    let root_cfg = s.write("root.hcl", stanza("root", &bao, "k1", ""));
    let limited = s.write(
        "limited.hcl",
        format!(
            "kms \"transit\" {{\n  purpose = \"root\"\n  address = \"{}\"\n  token = \"{token}\"\n  mount_path = \"transit/\"\n  key_name = \"k1\"\n}}\n",
            bao.address()
        ),
    );
    std::fs::create_dir_all(s.path("tree/sub")).unwrap();
    let input = s.write("p.bin", vec![42u8; 70_000]);
    ok(&[
        "encrypt",
        "-q",
        "-c",
        &root_cfg,
        "-o",
        &s.p("tree/a.kms"),
        &input,
    ]);
    ok(&[
        "encrypt",
        "-q",
        "-c",
        &root_cfg,
        "-o",
        &s.p("tree/sub/b.kms"),
        &input,
    ]);
    let v = s.write("v.txt", "a value");
    let o = ok(&["encrypt", "--value", "-c", &root_cfg, &v]);
    s.write("tree/sub/v.blob", &o.stdout);
    // The limited token cannot decrypt.
    let o = run(&["decrypt", "-c", &limited, &s.p("tree/a.kms")]);
    assert_code(&o, 1);
    assert_eq!(bao.rotate("k1"), 2);
    let o = run(&["rewrap", "-q", "-r", "-c", &limited, &s.p("tree")]);
    assert_code_for("rewrap -r with a rewrap-only token", &o, 0);
    for f in ["tree/a.kms", "tree/sub/b.kms"] {
        assert_eq!(
            inspect_keys(&s.p(f)),
            vec![("transit".into(), "v2".into())],
            "{f}"
        );
        let o = ok(&["decrypt", "-c", &root_cfg, &s.p(f)]);
        assert_eq!(o.stdout, vec![42u8; 70_000]);
    }
    let info = inspect_json(&s.p("tree/sub/v.blob"));
    assert_eq!(info["wrapped_keys"][0]["key_id"], "v2", "{info}");
    let o = ok(&["decrypt", "-c", &root_cfg, &s.p("tree/sub/v.blob")]);
    assert_eq!(o.stdout, b"a value");
}
