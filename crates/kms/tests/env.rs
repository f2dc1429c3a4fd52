//! Environment precedence for awskms, through the `LoadOptions.env` snapshot (the process
//! environment is neither read nor changed), and one test of the process-environment path,
//! run in a child process with an environment of its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use kms::aws::AwsKmsConfig;
use kms::config::{parse_str, ConfigErrors, Format, KmsConfig, LoadOptions, Source, Sourced};

fn opts(env: &[(&str, &str)]) -> LoadOptions {
    LoadOptions::new(kms::backends()).with_env(env.iter().copied())
}

fn parse(body: &str, env: &[(&str, &str)]) -> Result<KmsConfig, ConfigErrors> {
    let text = format!("kms \"awskms\" {{\n  purpose = \"root\"\n{body}}}\n");
    parse_str(&text, "env.hcl", Format::Hcl, &opts(env))
}

fn aws(body: &str, env: &[(&str, &str)]) -> AwsKmsConfig {
    let cfg = parse(body, env).unwrap_or_else(|e| panic!("{body}\n{env:?}\n{e}"));
    AwsKmsConfig::from_stanza(&cfg.wrappers[0].stanza).unwrap()
}

fn pair(s: &Option<Sourced<String>>) -> Option<(String, String)> {
    s.as_ref().map(|s| (s.value.clone(), s.source.to_string()))
}

/// Every subset of the sources, in precedence order: the first present one wins.
fn subsets<const N: usize>() -> impl Iterator<Item = [bool; N]> {
    (0..1u32 << N).map(|m| std::array::from_fn(|i| m & (1 << i) != 0))
}

#[test]
fn kms_key_id_precedence() {
    // (source, how it is given, the value, the source's name)
    let sources = [
        (
            "env",
            "AWSKMS_WRAPPER_KEY_ID",
            "from-wrapper-env",
            "env AWSKMS_WRAPPER_KEY_ID",
        ),
        (
            "env",
            "VAULT_AWSKMS_SEAL_KEY_ID",
            "from-vault-env",
            "env VAULT_AWSKMS_SEAL_KEY_ID",
        ),
        ("stanza", "kms_key_id", "from-kms_key_id", "stanza"),
        ("stanza", "key_id", "from-key_id", "stanza"),
    ];
    for present in subsets::<4>() {
        let mut body = String::new();
        let mut env = Vec::new();
        for (i, (kind, name, value, _)) in sources.iter().enumerate() {
            if present[i] {
                match *kind {
                    "env" => env.push((*name, *value)),
                    _ => body.push_str(&format!("  {name} = \"{value}\"\n")),
                }
            }
        }
        let winner = sources
            .iter()
            .zip(present)
            .find(|(_, p)| *p)
            .map(|(s, _)| s);
        match winner {
            Some((_, _, value, source)) => {
                let a = aws(&body, &env);
                assert_eq!(
                    pair(&a.kms_key_id),
                    Some(((*value).into(), (*source).into())),
                    "{present:?}"
                );
            }
            None => {
                let e = parse(&body, &env).unwrap_err().to_string();
                assert!(
                    e.contains("kms_key_id") && e.contains("AWSKMS_WRAPPER_KEY_ID"),
                    "{e}"
                );
                let a = aws("  key_not_required = true\n", &env);
                assert_eq!(a.kms_key_id, None);
            }
        }
    }
}

#[test]
fn endpoint_precedence() {
    for [wrapper, aws_kms, stanza] in subsets::<3>() {
        let mut env = Vec::new();
        if wrapper {
            env.push(("AWSKMS_ENDPOINT", "http://wrapper"));
        }
        if aws_kms {
            env.push(("AWS_KMS_ENDPOINT", "http://aws-kms"));
        }
        let mut body = "  kms_key_id = \"k\"\n".to_owned();
        if stanza {
            body.push_str("  endpoint = \"http://stanza\"\n");
        }
        // The SDK's own variables are left to the SDK.
        env.push(("AWS_ENDPOINT_URL_KMS", "http://sdk"));
        env.push(("AWS_ENDPOINT_URL", "http://sdk"));
        let want = if wrapper {
            Some(("http://wrapper", "env AWSKMS_ENDPOINT"))
        } else if aws_kms {
            Some(("http://aws-kms", "env AWS_KMS_ENDPOINT"))
        } else if stanza {
            Some(("http://stanza", "stanza"))
        } else {
            None
        };
        let got = pair(&aws(&body, &env).endpoint);
        assert_eq!(
            got,
            want.map(|(v, s)| (v.to_owned(), s.to_owned())),
            "{wrapper} {aws_kms} {stanza}"
        );
    }
}

#[test]
fn region_precedence() {
    for [stanza, region, default_region] in subsets::<3>() {
        let mut env = Vec::new();
        if region {
            env.push(("AWS_REGION", "eu-west-1"));
        }
        if default_region {
            env.push(("AWS_DEFAULT_REGION", "eu-west-2"));
        }
        let mut body = "  kms_key_id = \"k\"\n".to_owned();
        if stanza {
            body.push_str("  region = \"ca-central-1\"\n");
        }
        let want = if stanza {
            Some(("ca-central-1", "stanza"))
        } else if region {
            Some(("eu-west-1", "env AWS_REGION"))
        } else if default_region {
            Some(("eu-west-2", "env AWS_DEFAULT_REGION"))
        } else {
            None
        };
        let got = pair(&aws(&body, &env).region);
        assert_eq!(
            got,
            want.map(|(v, s)| (v.to_owned(), s.to_owned())),
            "{stanza} {region} {default_region}"
        );
    }
}

fn creds(a: &AwsKmsConfig) -> Option<(String, String, Option<String>, Source)> {
    a.credentials.as_ref().map(|c| {
        (
            c.access_key.clone(),
            c.secret_key.expose_secret().to_owned(),
            c.session_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
            c.source,
        )
    })
}

#[test]
fn credentials_precedence() {
    let env_all = [
        ("AWS_ACCESS_KEY_ID", "AKIAENV"),
        ("AWS_SECRET_ACCESS_KEY", "env-secret"),
        ("AWS_SESSION_TOKEN", "env-token"),
    ];
    let k = "  kms_key_id = \"k\"\n";
    // The stanza's pair wins, with its own token (or none: the env token is not mixed in).
    let stanza = format!("{k}  access_key = \"AKIASTANZA\"\n  secret_key = \"stanza-secret\"\n");
    assert_eq!(
        creds(&aws(&stanza, &env_all)),
        Some((
            "AKIASTANZA".into(),
            "stanza-secret".into(),
            None,
            Source::Stanza
        ))
    );
    let with_token = format!("{stanza}  session_token = \"stanza-token\"\n");
    assert_eq!(
        creds(&aws(&with_token, &env_all)),
        Some((
            "AKIASTANZA".into(),
            "stanza-secret".into(),
            Some("stanza-token".into()),
            Source::Stanza
        ))
    );
    // Then the environment's.
    assert_eq!(
        creds(&aws(k, &env_all)),
        Some((
            "AKIAENV".into(),
            "env-secret".into(),
            Some("env-token".into()),
            Source::Env("AWS_ACCESS_KEY_ID")
        ))
    );
    assert_eq!(
        creds(&aws(k, &env_all[..2])),
        Some((
            "AKIAENV".into(),
            "env-secret".into(),
            None,
            Source::Env("AWS_ACCESS_KEY_ID")
        ))
    );
    // Half a pair in the environment, or empty values: left to the SDK's chain.
    assert_eq!(creds(&aws(k, &env_all[..1])), None);
    assert_eq!(creds(&aws(k, &env_all[1..])), None);
    assert_eq!(
        creds(&aws(
            k,
            &[("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", "s")]
        )),
        None
    );
    assert_eq!(creds(&aws(k, &[])), None);
    // Half a pair in the stanza is an error naming the missing one.
    let e = parse(&format!("{k}  access_key = \"A\"\n"), &env_all).unwrap_err();
    assert_eq!(e.0.len(), 1);
    assert_eq!(e.0[0].key.as_deref(), Some("secret_key"));
    let e = parse(&format!("{k}  secret_key = \"S\"\n"), &env_all).unwrap_err();
    assert_eq!(e.0.len(), 1);
    assert_eq!(e.0[0].key.as_deref(), Some("access_key"));
}

#[test]
fn disallow_env_vars_ignores_every_variable() {
    let env = [
        ("AWSKMS_WRAPPER_KEY_ID", "env-key"),
        ("VAULT_AWSKMS_SEAL_KEY_ID", "vault-key"),
        ("AWSKMS_ENDPOINT", "http://env"),
        ("AWS_KMS_ENDPOINT", "http://env2"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_DEFAULT_REGION", "eu-west-2"),
        ("AWS_ACCESS_KEY_ID", "AKIAENV"),
        ("AWS_SECRET_ACCESS_KEY", "env-secret"),
        ("AWS_SESSION_TOKEN", "env-token"),
    ];
    let a = aws(
        "  key_id = \"stanza-key\"\n  disallow_env_vars = true\n",
        &env,
    );
    assert_eq!(
        pair(&a.kms_key_id),
        Some(("stanza-key".into(), "stanza".into()))
    );
    assert_eq!(a.endpoint, None);
    assert_eq!(a.region, None);
    assert!(a.credentials.is_none());
    assert!(a.disallow_env_vars);
    // Without a key id of its own, the error does not point at the ignored variable.
    let e = parse("  disallow_env_vars = \"true\"\n", &env)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("kms_key_id") && e.contains("disallow_env_vars"),
        "{e}"
    );
    // The same stanza without disallow_env_vars takes them all.
    let a = aws("  key_id = \"stanza-key\"\n", &env);
    assert_eq!(
        pair(&a.kms_key_id),
        Some(("env-key".into(), "env AWSKMS_WRAPPER_KEY_ID".into()))
    );
    assert_eq!(
        pair(&a.endpoint),
        Some(("http://env".into(), "env AWSKMS_ENDPOINT".into()))
    );
    assert_eq!(
        pair(&a.region),
        Some(("eu-west-1".into(), "env AWS_REGION".into()))
    );
    assert!(a.credentials.is_some());
}

#[test]
fn empty_variables_count_as_unset() {
    let env = [
        ("AWSKMS_WRAPPER_KEY_ID", ""),
        ("AWSKMS_ENDPOINT", ""),
        ("AWS_REGION", ""),
    ];
    let a = aws("  kms_key_id = \"stanza\"\n", &env);
    assert_eq!(
        pair(&a.kms_key_id),
        Some(("stanza".into(), "stanza".into()))
    );
    assert_eq!(a.endpoint, None);
    assert_eq!(a.region, None);
}

#[test]
fn env_and_file_indirection_read_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret");
    std::fs::write(&file, "from-file\n\n").unwrap();
    let body = format!(
        "  kms_key_id = \"env://MY_KEY\"\n  access_key = \"env://MY_ACCESS\"\n  secret_key = \"file://{}\"\n",
        file.display()
    );
    let a = aws(&body, &[("MY_KEY", "alias/k"), ("MY_ACCESS", "AKIA")]);
    // go-kms-wrapping resolves env:// and file:// in the credentials only: a key id is taken
    // as written (with a warning).
    assert_eq!(
        pair(&a.kms_key_id),
        Some(("env://MY_KEY".into(), "stanza".into()))
    );
    let cfg = parse(&body, &[("MY_KEY", "alias/k"), ("MY_ACCESS", "AKIA")]).unwrap();
    let warnings: Vec<String> = cfg.warnings.iter().map(ToString::to_string).collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("kms_key_id: looks like an env:// reference")),
        "{warnings:?}"
    );
    // A file is read whole, untrimmed, as ParsePaths reads it (and that is warned about).
    assert_eq!(
        creds(&a),
        Some(("AKIA".into(), "from-file\n\n".into(), None, Source::Stanza))
    );
    assert!(
        warnings
            .iter()
            .any(|w| w
                .contains("secret_key: its value (from env:// or file://) ends with white space")),
        "{warnings:?}"
    );
    // A missing variable is named.
    let e = parse(&body, &[("MY_KEY", "alias/k")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("MY_ACCESS") && e.contains("not set"), "{e}");
}

const CHILD: &str = "KMS_CONFIG_TEST_CHILD_3c9e";
const VAR: &str = "KMS_CONFIG_TEST_KEY_ID_3c9e";

/// `env: None` reads the process environment. The parent runs this test again in a child
/// process with a chosen environment, so no test changes its own process's environment.
#[test]
fn process_environment_when_no_snapshot() {
    let no_snapshot = LoadOptions {
        backends: kms::backends(),
        env: None,
    };
    let text = format!(
        "kms \"awskms\" {{\n  purpose = \"root\"\n  kms_key_id = \"k\"\n  access_key = \"env://{VAR}\"\n  secret_key = \"s\"\n}}\n"
    );
    if std::env::var_os(CHILD).is_some() {
        let cfg = parse_str(&text, "p.hcl", Format::Hcl, &no_snapshot).unwrap();
        let a = AwsKmsConfig::from_stanza(&cfg.wrappers[0].stanza).unwrap();
        assert_eq!(
            a.credentials.map(|c| c.access_key),
            Some("AKIA-from-process".to_owned())
        );
        assert_eq!(
            pair(&a.region),
            Some(("ap-south-1".into(), "env AWS_DEFAULT_REGION".into()))
        );
        return;
    }
    let mut child = Command::new(std::env::current_exe().unwrap());
    child.args([
        "--exact",
        "process_environment_when_no_snapshot",
        "--test-threads",
        "1",
    ]);
    for v in [
        "AWSKMS_WRAPPER_KEY_ID",
        "VAULT_AWSKMS_SEAL_KEY_ID",
        "AWS_REGION",
        "AWSKMS_ENDPOINT",
        "AWS_KMS_ENDPOINT",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ] {
        child.env_remove(v);
    }
    child
        .env(CHILD, "1")
        .env(VAR, "AKIA-from-process")
        .env("AWS_DEFAULT_REGION", "ap-south-1");
    let out = child.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("1 passed"),
        "the child ran the test:\n{stdout}"
    );
    // And a snapshot hides the process environment entirely, even the variable's presence.
    if std::env::var_os(VAR).is_none() {
        let e = parse_str(&text, "p.hcl", Format::Hcl, &opts(&[]))
            .unwrap_err()
            .to_string();
        assert!(e.contains(VAR), "{e}");
    }
}

/// An endpoint without a scheme: aws-sdk-go (go-kms-wrapping's awskms) adds `https://`, and
/// so does kms, with a warning; `kms check --offline` and the online use then agree.
#[test]
fn endpoint_without_scheme_gets_https_as_in_go() {
    let body = "  kms_key_id = \"k\"\n  endpoint = \"kms.internal:4566\"\n";
    let a = aws(body, &[]);
    assert_eq!(
        pair(&a.endpoint),
        Some(("https://kms.internal:4566".into(), "stanza".into()))
    );
    let cfg = parse(body, &[]).unwrap();
    assert!(
        cfg.warnings
            .iter()
            .any(|w| w.to_string().contains("endpoint: has no scheme")),
        "{:?}",
        cfg.warnings
    );
    for with_scheme in ["http://127.0.0.1:4566", "https://kms.example"] {
        let body = format!("  kms_key_id = \"k\"\n  endpoint = \"{with_scheme}\"\n");
        assert_eq!(
            pair(&aws(&body, &[]).endpoint).map(|p| p.0),
            Some(with_scheme.to_owned())
        );
    }
}
