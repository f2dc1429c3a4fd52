//! Secrets (aead `key`, `secret_key`, `session_token`) never show in Debug, Display or any
//! message. Every secret here contains CANARY.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use kms::aead::AeadConfig;
use kms::aws::AwsKmsConfig;
use kms::config::{parse_str, ConfigErrors, Format, LoadOptions, SecretString};

/// Standard base64 of 32 bytes that spells CANARY.
const CANARY_KEY: &str = "CANARYCANARYCANARYCANARYCANARYCANARYCANARYA=";

fn opts(env: &[(&str, &str)]) -> LoadOptions {
    LoadOptions::new(kms::backends()).with_env(env.iter().copied())
}

#[test]
fn debug_of_a_whole_config_shows_no_secret() {
    let text = format!(
        r#"
kms "aead" {{
  purpose = "root"
  key     = "{CANARY_KEY}"
  key_id  = "global_root"
}}
kms "awskms" {{
  purpose       = "recovery"
  kms_key_id    = "alias/r"
  access_key    = "AKIASTANZA"
  secret_key    = "CANARY-stanza-secret"
  session_token = "CANARY-stanza-token"
}}
kms "awskms" {{
  purpose    = "worker-auth"
  kms_key_id = "alias/w"
}}
"#
    );
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIAENV"),
        ("AWS_SECRET_ACCESS_KEY", "CANARY-env-secret"),
        ("AWS_SESSION_TOKEN", "CANARY-env-token"),
    ];
    let cfg = parse_str(&text, "s.hcl", Format::Hcl, &opts(&env)).unwrap();
    for shown in [format!("{cfg:?}"), format!("{cfg:#?}")] {
        assert!(!shown.contains("CANARY"), "{shown}");
        assert!(
            shown.contains("AKIASTANZA") && shown.contains("AKIAENV"),
            "access key ids are not secret: {shown}"
        );
    }
    // The secrets are there all the same, so the redaction is what hides them.
    let a = AeadConfig::from_stanza(&cfg.wrappers[0].stanza).unwrap();
    assert_eq!(
        a.key.expose_secret(),
        base64::engine::general_purpose::STANDARD
            .decode(CANARY_KEY)
            .unwrap()
    );
    let r = AwsKmsConfig::from_stanza(&cfg.wrappers[1].stanza).unwrap();
    let c = r.credentials.as_ref().unwrap();
    assert_eq!(c.secret_key.expose_secret(), "CANARY-stanza-secret");
    assert_eq!(
        c.session_token.as_ref().unwrap().expose_secret(),
        "CANARY-stanza-token"
    );
    let w = AwsKmsConfig::from_stanza(&cfg.wrappers[2].stanza).unwrap();
    let c = w.credentials.as_ref().unwrap();
    assert_eq!(c.secret_key.expose_secret(), "CANARY-env-secret");
    assert_eq!(
        c.session_token.as_ref().unwrap().expose_secret(),
        "CANARY-env-token"
    );
    for s in [&c.secret_key, c.session_token.as_ref().unwrap()] {
        assert_eq!(format!("{s}"), "[REDACTED]");
        assert_eq!(format!("{s:?}"), "[REDACTED]");
    }
}

#[test]
fn secret_string_redacts() {
    let s = SecretString::new("CANARY".into());
    assert_eq!(
        format!("{s} {s:?} {s:#?}"),
        "[REDACTED] [REDACTED] [REDACTED]"
    );
    assert_eq!(s.expose_secret(), "CANARY");
}

/// Every way a secret can be wrong, and a few ways a block around it can be.
const BAD: &[&str] = &[
    // aead key: not base64, wrong length, wrong type, in a heredoc, number-like, via env.
    "kms \"aead\" {\n purpose = \"root\"\n key = \"CANARY!!\"\n}\n",
    "kms \"aead\" {\n purpose = \"root\"\n key = \"CANARYCANARY\"\n}\n",
    "kms \"aead\" {\n purpose = \"root\"\n key = [\"CANARY\"]\n}\n",
    "kms \"aead\" {\n purpose = \"root\"\n key = { CANARY = \"CANARY\" }\n}\n",
    "kms \"aead\" {\n purpose = \"root\"\n key = <<EOT\nCANARY-in-a-heredoc\nEOT\n}\n",
    "kms \"aead\" {\n purpose = \"root\"\n key = \"${CANARY}\"\n}\n",
    "kms \"aead\" {\n purpose = \"root\"\n key = \"env://SECRET_FROM_ENV\"\n}\n",
    "kms \"aead\" {\n purpose = \"root\"\n key = \"CANARY\"\n key = \"CANARY2\"\n}\n",
    // the same key for root and previous-root
    "kms \"aead\" {\n purpose = \"root\"\n key = \"CANARYCANARYCANARYCANARYCANARYCANARYCANARYA=\"\n key_id = \"a\"\n}\nkms \"aead\" {\n purpose = \"previous-root\"\n key = \"CANARYCANARYCANARYCANARYCANARYCANARYCANARYA=\"\n key_id = \"b\"\n}\n",
    // awskms secrets: half a pair, wrong types, lone token, typos of their names
    "kms \"awskms\" {\n purpose = \"root\"\n secret_key = \"CANARY\"\n}\n",
    "kms \"awskms\" {\n purpose = \"root\"\n secret_key = [\"CANARY\"]\n session_token = [\"CANARY\"]\n}\n",
    "kms \"awskms\" {\n purpose = \"root\"\n session_token = \"CANARY\"\n}\n",
    "kms \"awskms\" {\n purpose = \"root\"\n secret_kye = \"CANARY\"\n sesion_token = \"CANARY\"\n}\n",
    "kms \"awskms\" {\n purpose = \"root\"\n secret_key = \"env://SECRET_FROM_ENV\"\n}\n",
    // syntax errors on the line of a secret
    "kms \"aead\" {\n purpose = \"root\"\n key = \"CANARY\n}\n",
    "kms \"aead\" {\n key = \"CANARY\" purpose = \"root\"\n}\n",
    "kms \"aead\" { key = CANARY }\n",
    // an unknown type and a disabled-looking block holding secrets
    "kms \"vault\" {\n purpose = \"root\"\n token = \"CANARY\"\n}\n",
    "kms \"aead\" {\n purpose = \"rooot\"\n disabled = \"no\"\n key = \"CANARY\"\n}\n",
];

const BAD_JSON: &[&str] = &[
    r#"{"kms": [{"aead": {"purpose": "root", "key": "CANARY"}}]}"#,
    r#"{"kms": [{"aead": {"purpose": "root", "key": ["CANARY"]}}]}"#,
    r#"{"kms": [{"aead": {"purpose": "root", "key": "CANARY", "key": "CANARY"}}]}"#,
    r#"{"kms": [{"awskms": {"purpose": "root", "secret_key": "CANARY", "session_token": true}}]}"#,
    r#"{"kms": [{"aead": {"purpose": "root", "key": "CANARY"}}"#,
    r#"{"kms": [{"aead": {"purpose": "root", "key": "CANARY\x"}}]}"#,
    r#"{"kms": [{"aead": "CANARY"}]}"#,
];

#[test]
fn no_message_shows_a_secret() {
    let env = [("SECRET_FROM_ENV", "CANARY-from-env")];
    let cases = BAD
        .iter()
        .map(|t| (*t, Format::Hcl))
        .chain(BAD_JSON.iter().map(|t| (*t, Format::Json)));
    for (text, format) in cases {
        // What Boundary accepts comes back with warnings; nothing may show a secret there
        // either.
        let errors = match parse_str(text, "s", format, &opts(&env)) {
            Err(e) => e,
            Ok(cfg) => {
                assert!(
                    !cfg.warnings.is_empty(),
                    "expected problems in {text}, got {cfg:?}"
                );
                ConfigErrors(cfg.warnings.clone())
            }
        };
        assert!(!errors.0.is_empty());
        let all = [
            errors.to_string(),
            format!("{errors:?}"),
            format!("{errors:#?}"),
        ];
        for shown in all {
            assert!(
                !shown.contains("CANARY"),
                "a secret shows for\n{text}\n{shown}"
            );
        }
        for e in &errors.0 {
            assert!(!e.message.contains("CANARY"));
        }
    }
}

#[test]
fn non_secret_values_are_shown() {
    // The other side of the coin: what is not secret is quoted, to help the reader.
    let text =
        "kms \"aead\" {\n purpose = \"rooot\"\n aead_type = \"chacha\"\n key = \"AAAA\"\n}\n";
    let e = parse_str(text, "s", Format::Hcl, &opts(&[]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("\"rooot\"") && e.contains("\"chacha\""), "{e}");
    assert!(!e.contains("AAAA"), "{e}");
}
