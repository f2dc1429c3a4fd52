//! The oracle: `hclv1`, Boundary's reading of a config's kms stanzas, built from HashiCorp's
//! own code by `shared/oracle/build.sh` (see its README). The tests hold `kms check` to it.
//!
//! - [`Oracle::find`]: `$KMS_ORACLE_DIR` when set, else `target/oracle` of this workspace (where `.ci/run`
//!   builds it), else `shared/oracle/bin` beside an ancestor of the checkout. Missing, it is a
//!   failure under `KMS_REQUIRE_INTEGRATION=1` and a printed skip otherwise.
//! - [`Oracle::read`]: `hclv1 FILE` in the fixed environment of `shared/oracle/hclcompare.py`
//!   ([`Oracle::env`]: `env -i`, a temporary HOME, the `ORACLE_*` values, cwd = the file's
//!   directory), as a [`Verdict`].
//! - [`Oracle::kms_check`] and [`check_wrappers`]: `kms check -c FILE --offline` in the same
//!   environment, read the way hclcompare.py reads it.
//! - [`compare`]: the two verdicts, with hclcompare.py's rule for Boundary's other kms plugins.

pub mod gen;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The aead key the `env://` probes read from `ORACLE_AEAD_KEY`.
pub const ENV_AEAD_KEY: &str = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ=";

/// Boundary's kms plugins other than aead and awskms: a config that uses them is skipped when
/// kms names them as unknown types (transit only in builds without the `transit` feature).
pub const OTHER_PLUGIN_TYPES: &[&str] = &[
    "alicloudkms",
    "azurekeyvault",
    "gcpckms",
    "ibmkp",
    "ocikms",
    "transit",
];

/// A configured wrapper as the oracle prints it: (purpose, type, key id).
pub type Wrapper = (String, String, String);

/// A reading of a config: accepted with its wrappers (sorted), or refused with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Valid(Vec<Wrapper>),
    Invalid(String),
}

impl Verdict {
    /// Whether it accepts.
    pub fn is_valid(&self) -> bool {
        matches!(self, Verdict::Valid(_))
    }

    /// The wrappers, sorted (none when refused).
    pub fn wrappers(&self) -> &[Wrapper] {
        match self {
            Verdict::Valid(w) => w,
            Verdict::Invalid(_) => &[],
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Valid(w) => write!(f, "valid, wrappers {w:?}"),
            Verdict::Invalid(why) => write!(f, "INVALID: {why}"),
        }
    }
}

/// The located `hclv1` and the fixed environment both programs run in.
pub struct Oracle {
    hclv1: PathBuf,
    home: tempfile::TempDir,
}

/// Where the oracle's binaries are looked for, in order; `$KMS_ORACLE_DIR` alone when set.
fn candidates() -> Vec<PathBuf> {
    if let Some(d) = std::env::var_os("KMS_ORACLE_DIR") {
        return vec![PathBuf::from(d)];
    }
    let mut dirs = Vec::new();
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        dirs.push(PathBuf::from(t).join("oracle"));
    }
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    for a in here.ancestors() {
        dirs.push(a.join("target/oracle"));
    }
    for a in here.ancestors() {
        dirs.push(a.join("shared/oracle/bin"));
    }
    dirs
}

/// The oracle's program `name` (`hclv1`, `gkw`) when built; else `None` after printing why,
/// or a panic under `KMS_REQUIRE_INTEGRATION=1` (CI), where skipping is not allowed.
///
/// # Panics
/// When the program is missing and `KMS_REQUIRE_INTEGRATION=1` is set.
pub fn binary(name: &str) -> Option<PathBuf> {
    let found = candidates()
        .into_iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        let msg = format!(
            "the oracle ({name}) is not built: run \
             `ORACLE_BIN=$PWD/target/oracle ../shared/oracle/build.sh` in the repository \
             (or set KMS_ORACLE_DIR to the folder holding {name})"
        );
        assert!(
            std::env::var("KMS_REQUIRE_INTEGRATION").map_or(true, |v| v != "1"),
            "{msg}; KMS_REQUIRE_INTEGRATION=1 forbids skipping the oracle tests"
        );
        eprintln!("SKIPPED: {msg}");
    }
    found
}

impl Oracle {
    /// The oracle when built; else `None` after printing why, or a panic under
    /// `KMS_REQUIRE_INTEGRATION=1` (CI), where skipping is not allowed.
    ///
    /// # Panics
    /// When the oracle is missing and `KMS_REQUIRE_INTEGRATION=1` is set.
    pub fn find() -> Option<Oracle> {
        let hclv1 = binary("hclv1")?;
        Some(Oracle {
            hclv1,
            home: tempfile::tempdir().unwrap(),
        })
    }

    /// The path of `hclv1`.
    pub fn hclv1(&self) -> &Path {
        &self.hclv1
    }

    /// The whole environment both programs see (hclcompare.py's): nothing of the host's but
    /// PATH.
    pub fn env(&self) -> HashMap<String, String> {
        let home = self.home.path();
        let mut env = HashMap::new();
        env.insert(
            "PATH".to_owned(),
            std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".to_owned()),
        );
        env.insert("HOME".to_owned(), home.display().to_string());
        env.insert("AWS_EC2_METADATA_DISABLED".to_owned(), "true".to_owned());
        env.insert(
            "AWS_CONFIG_FILE".to_owned(),
            home.join("no-aws-config").display().to_string(),
        );
        env.insert(
            "AWS_SHARED_CREDENTIALS_FILE".to_owned(),
            home.join("no-aws-credentials").display().to_string(),
        );
        for (k, v) in [
            ("ORACLE_AEAD_KEY", ENV_AEAD_KEY),
            ("ORACLE_KMS_KEY_ID", "alias/from-env"),
            ("ORACLE_AK", "AKIDEXAMPLE"),
            ("ORACLE_SK", "secretexample"),
        ] {
            env.insert(k.to_owned(), v.to_owned());
        }
        env
    }

    /// `program ARGS` in the fixed environment, with the file's directory as cwd.
    pub fn command(&self, program: &Path, file: &Path) -> Command {
        let mut c = Command::new(program);
        c.env_clear().envs(self.env());
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            c.current_dir(dir);
        }
        c
    }

    /// Boundary's reading of `file`.
    ///
    /// # Panics
    /// When `hclv1` cannot run or prints no JSON.
    pub fn read(&self, file: &Path) -> Verdict {
        let out = self
            .command(&self.hclv1, file)
            .arg(file)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.hclv1.display()));
        parse_hclv1(&out.stdout).unwrap_or_else(|| {
            panic!(
                "hclv1 gave no JSON on {} (status {}): {}",
                file.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }

    /// `kms check -c FILE --offline` in the fixed environment.
    ///
    /// # Panics
    /// When the binary cannot run.
    pub fn kms_check_output(&self, kms: &Path, file: &Path) -> Output {
        self.command(kms, file)
            .args(["check", "-c"])
            .arg(file)
            .arg("--offline")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", kms.display()))
    }

    /// kms's reading of `file`, by the whole binary.
    pub fn kms_check(&self, kms: &Path, file: &Path) -> Verdict {
        check_verdict(&self.kms_check_output(kms, file))
    }
}

/// `hclv1`'s JSON as a verdict; `None` when it is not its JSON.
pub fn parse_hclv1(stdout: &[u8]) -> Option<Verdict> {
    let v: serde_json::Value = serde_json::from_slice(stdout).ok()?;
    if v["valid"].as_bool()? {
        let mut ws: Vec<Wrapper> = v["wrappers"]
            .as_array()?
            .iter()
            .map(|w| {
                Some((
                    w["purpose"].as_str()?.to_owned(),
                    w["type"].as_str()?.to_owned(),
                    w["key_id"].as_str()?.to_owned(),
                ))
            })
            .collect::<Option<_>>()?;
        ws.sort();
        Some(Verdict::Valid(ws))
    } else {
        Some(Verdict::Invalid(format!(
            "{}: {}",
            v["stage"].as_str().unwrap_or("?"),
            v["error"].as_str().unwrap_or("?")
        )))
    }
}

/// `kms check`'s exit code and output as a verdict: exit 0 is valid, with the wrappers of its
/// per-wrapper lines; anything else is invalid, with stderr as the reason.
pub fn check_verdict(out: &Output) -> Verdict {
    if out.status.success() {
        Verdict::Valid(check_wrappers(&String::from_utf8_lossy(&out.stdout)))
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        let err = if err.trim().is_empty() {
            String::from_utf8_lossy(&out.stdout)
        } else {
            err
        };
        Verdict::Invalid(format!("exit {:?}: {}", out.status.code(), err.trim()))
    }
}

/// The wrappers of `kms check`'s lines `PURPOSE TYPE key_id=ID` and
/// `PURPOSE TYPE kms_key_id=ID [source] region=...` (hclcompare.py's `rust_wrappers`), sorted.
/// `kms check` escapes control characters and backslashes (`\n`, `\u{1b}`, `\\`), so each
/// wrapper is one line; ids are unescaped here.
pub fn check_wrappers(stdout: &str) -> Vec<Wrapper> {
    let mut records: Vec<(String, String, String)> = Vec::new();
    for line in stdout.lines() {
        if let Some(w) = wrapper_line(line) {
            records.push(w);
        } else if line.contains(": valid (") && line.ends_with(')') {
            break;
        } else if let Some(last) = records.last_mut() {
            last.2.push('\n');
            last.2.push_str(line);
        }
    }
    let mut ws: Vec<Wrapper> = records
        .into_iter()
        .map(|(purpose, typ, rest)| {
            let id = if let Some(r) = rest.strip_prefix("kms_key_id=") {
                let end = [r.find(" region="), r.find(" [")]
                    .into_iter()
                    .flatten()
                    .min()
                    .unwrap_or(r.len());
                let id = &r[..end];
                if id.starts_with("(none") {
                    String::new()
                } else {
                    id.to_owned()
                }
            } else {
                let r = rest.strip_prefix("key_id=").unwrap_or(&rest);
                // transit: `key_id=ID address=... [source] ...`.
                let r = match r.find(" address=") {
                    Some(end) if typ == "transit" => &r[..end],
                    _ => r,
                };
                if r == "(empty)" {
                    String::new()
                } else {
                    r.to_owned()
                }
            };
            (purpose, typ, unescape(&id))
        })
        .collect();
    ws.sort();
    ws
}

/// The text `kms check` escaped: `\\`, Rust's `escape_debug` forms of control characters
/// (`\n`, `\r`, `\t`, `\0`, `\u{..}`).
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('0') => out.push('\0'),
            Some('u') => {
                let hex: String = chars
                    .by_ref()
                    .skip_while(|&c| c == '{')
                    .take_while(|&c| c != '}')
                    .collect();
                if let Some(c) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    out.push(c);
                }
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// `(purpose, type, "key_id=..." or "kms_key_id=...")` of a wrapper line.
fn wrapper_line(line: &str) -> Option<(String, String, String)> {
    let (purpose, rest) = line.split_once(char::is_whitespace)?;
    let (typ, rest) = rest.trim_start().split_once(char::is_whitespace)?;
    let rest = rest.trim_start();
    let ok = !purpose.is_empty()
        && !typ.is_empty()
        && (rest.starts_with("key_id=") || rest.starts_with("kms_key_id="));
    ok.then(|| (purpose.to_owned(), typ.to_owned(), rest.to_owned()))
}

/// The kms types that kms names as unknown in `stderr` (its lines without `warning:`), when
/// every error line names one.
pub fn unknown_types(stderr: &str) -> Option<Vec<String>> {
    let mut types = Vec::new();
    for line in stderr
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.to_lowercase().contains("warning:"))
    {
        let (_, rest) = line.split_once("unknown kms type \"")?;
        let (t, _) = rest.split_once('"')?;
        types.push(t.to_owned());
    }
    (!types.is_empty()).then_some(types)
}

/// How two readings of one config compare.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Same verdict, and the same wrappers when both accept.
    Agree,
    /// Boundary accepts, kms refuses only for types of Boundary's other kms plugins.
    OutsideScope(Vec<String>),
    /// They differ; the text says how.
    Disagree(String),
}

/// Whether every error kms printed is a `transit` block missing `mount_path` or `key_name`:
/// the transit wrapper's `SetConfig` requires them, so Boundary refuses such a block when it
/// starts, but the oracle cannot run that wrapper offline (it reports transit as unverified)
/// and accepts it.
fn transit_wrapper_refusal(stderr: &str) -> bool {
    let mut lines = stderr
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.to_lowercase().contains("warning:"))
        .peekable();
    lines.peek().is_some()
        && lines.all(|l| {
            l.contains(" \"transit\" block at line ")
                && (l.contains(": mount_path: ") || l.contains(": key_name: "))
                && (l.contains("missing") || l.contains("is empty"))
        })
}

/// Compares Boundary's verdict with kms's; `kms_stderr` is kms's error text (for the rule on
/// Boundary's other plugins).
pub fn compare(boundary: &Verdict, kms: &Verdict, kms_stderr: &str) -> Outcome {
    match (boundary, kms) {
        (Verdict::Valid(b), Verdict::Valid(k)) if b == k => Outcome::Agree,
        (Verdict::Invalid(_), Verdict::Invalid(_)) => Outcome::Agree,
        (Verdict::Valid(_), Verdict::Invalid(_)) => match unknown_types(kms_stderr) {
            Some(types)
                if types
                    .iter()
                    .all(|t| OTHER_PLUGIN_TYPES.contains(&t.as_str())) =>
            {
                Outcome::OutsideScope(types)
            }
            _ if transit_wrapper_refusal(kms_stderr) => {
                Outcome::OutsideScope(vec!["transit".to_owned()])
            }
            _ => Outcome::Disagree(format!(
                "kms rejects what Boundary accepts{}",
                if boundary.wrappers().is_empty() {
                    " (Boundary configures no wrapper from this file)"
                } else {
                    ""
                }
            )),
        },
        (Verdict::Invalid(_), Verdict::Valid(_)) => {
            Outcome::Disagree("kms accepts what Boundary rejects".to_owned())
        }
        (Verdict::Valid(_), Verdict::Valid(_)) => {
            Outcome::Disagree("both accept, different wrappers".to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_lines_read_as_hclcompare_reads_them() {
        let out = "root                   aead    key_id=k1\n\
            worker-auth            aead    key_id=(empty)\n\
            recovery               awskms  kms_key_id=alias/x [stanza] region=us-east-1 [stanza] endpoint=...\n\
            config                 awskms  kms_key_id=(none: decrypt only) region=eu-west-1 [stanza]\n\
            cfg.hcl: valid (4 wrappers; offline: no key was contacted)\n";
        assert_eq!(
            check_wrappers(out),
            vec![
                ("config".into(), "awskms".into(), String::new()),
                ("recovery".into(), "awskms".into(), "alias/x".into()),
                ("root".into(), "aead".into(), "k1".into()),
                ("worker-auth".into(), "aead".into(), String::new()),
            ]
        );
    }

    #[test]
    fn escaped_key_ids_are_read_back() {
        let out = "root                   aead    key_id=my-key\\n\n\
            recovery               aead    key_id=a\\n  \\\\q\\u{1b}\n\
            cfg.hcl: valid (2 wrappers; offline: no key was contacted)\n";
        assert_eq!(
            check_wrappers(out),
            vec![
                ("recovery".into(), "aead".into(), "a\n  \\q\u{1b}".into()),
                ("root".into(), "aead".into(), "my-key\n".into()),
            ]
        );
    }

    #[test]
    fn other_plugins_are_out_of_scope_only_when_every_error_names_one() {
        let b = Verdict::Valid(vec![]);
        let k = Verdict::Invalid("x".into());
        assert_eq!(
            compare(
                &b,
                &k,
                "f.hcl: kms \"gcpckms\": unknown kms type \"gcpckms\" (...)\n"
            ),
            Outcome::OutsideScope(vec!["gcpckms".into()])
        );
        assert!(matches!(
            compare(
                &b,
                &k,
                "f.hcl: unknown kms type \"gcpckms\"\nf.hcl: kms \"aead\": key: missing\n"
            ),
            Outcome::Disagree(_)
        ));
        assert!(matches!(
            compare(&b, &k, "f.hcl: unknown kms type \"foo\"\n"),
            Outcome::Disagree(_)
        ));
        assert_eq!(
            compare(&Verdict::Invalid("a".into()), &k, ""),
            Outcome::Agree
        );
    }

    #[test]
    fn transit_wrapper_requirements_are_out_of_the_oracles_scope() {
        let valid = Verdict::Valid(vec![("root".into(), "transit".into(), String::new())]);
        let invalid = Verdict::Invalid("x".into());
        let missing = "kms: f.hcl: kms \"transit\" block at line 1: key_name: missing: a transit stanza needs key_name\nkms: f.hcl: kms \"transit\" block at line 1: mount_path: missing: ...\n";
        assert!(matches!(
            compare(&valid, &invalid, missing),
            Outcome::OutsideScope(_)
        ));
        let other = "kms: f.hcl: kms \"transit\" block at line 1: key_name: missing\nkms: f.hcl: kms \"aead\" block at line 5: key: missing\n";
        assert!(matches!(
            compare(&valid, &invalid, other),
            Outcome::Disagree(_)
        ));
        let address = "kms: f.hcl: kms \"transit\" block at line 1: address: \"x\" must start with http:// or https://\n";
        assert!(matches!(
            compare(&valid, &invalid, address),
            Outcome::Disagree(_)
        ));
    }

    #[test]
    fn hclv1_json_reads_as_a_verdict() {
        let v = parse_hclv1(
            br#"{"valid": true, "blocks": [], "wrappers": [{"purpose": "root", "type": "aead", "key_id": "k"}]}"#,
        )
        .unwrap();
        assert_eq!(
            v,
            Verdict::Valid(vec![("root".into(), "aead".into(), "k".into())])
        );
        let v =
            parse_hclv1(br#"{"valid": false, "stage": "parse", "error": "At 1:1: x"}"#).unwrap();
        assert_eq!(v, Verdict::Invalid("parse: At 1:1: x".into()));
        assert_eq!(parse_hclv1(b"not json"), None);
    }
}
