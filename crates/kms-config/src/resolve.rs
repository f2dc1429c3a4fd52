//! Typing, validation and environment resolution of raw `kms` blocks. Every problem is
//! collected; nothing stops at the first.

use std::collections::{HashMap, HashSet};

use base64::Engine;
use kms_core::{Key256, Purpose};

use crate::error::{ConfigError, ConfigErrors};
use crate::raw::{RawAttr, RawBlock, Val};
use crate::{
    AeadConfig, AwsKmsConfig, BackendConfig, KmsConfig, LoadOptions, SecretString, Source, Sourced,
    StaticCredentials, WrapperConfig,
};

/// Attributes of `kms "aead"`.
pub(crate) const AEAD_ATTRS: &[&str] = &["purpose", "aead_type", "key", "key_id", "disabled"];
/// Attributes of `kms "awskms"`.
pub(crate) const AWSKMS_ATTRS: &[&str] = &[
    "purpose",
    "region",
    "access_key",
    "secret_key",
    "session_token",
    "kms_key_id",
    "endpoint",
    "key_id",
    "shared_creds_filename",
    "shared_creds_profile",
    "role_arn",
    "role_session_name",
    "web_identity_token_file",
    "disallow_env_vars",
    "key_not_required",
    "disabled",
];
/// Attributes whose values are secrets: nothing of their value is shown in any message.
const SECRET_ATTRS: &[&str] = &["key", "secret_key", "session_token"];

/// The attributes a stanza type accepts, for the types this crate reads.
pub(crate) fn attributes_of(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "aead" => Some(AEAD_ATTRS),
        "awskms" => Some(AWSKMS_ATTRS),
        _ => None,
    }
}

/// The closest candidate, if it is close enough to be a likely typo.
pub(crate) fn suggest<'a>(
    given: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let given = given.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&given, c), c))
        .filter(|&(d, c)| d > 0 && d <= 1.max(c.len() / 3))
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

fn did_you_mean(s: Option<&str>) -> String {
    s.map_or_else(String::new, |s| format!(", did you mean \"{s}\"?"))
}

/// A value as shown in a message: quoted, and cut when long.
fn shown(s: &str) -> String {
    const MAX: usize = 120;
    if s.chars().count() > MAX {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut:?}...")
    } else {
        format!("{s:?}")
    }
}

/// Go's `strconv.ParseBool`, which go-kms-wrapping uses for its boolean settings.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

struct Ctx<'a> {
    file: &'a str,
    opts: &'a LoadOptions,
    /// Each problem, with its place in its block for sorting: 0 for the block itself, the
    /// attribute's index, or `usize::MAX` for what is missing or across blocks.
    errors: Vec<((usize, usize), ConfigError)>,
    /// The index of the block being read, so that blocks sharing a line (JSON) stay apart.
    block: usize,
}

impl Ctx<'_> {
    fn push(&mut self, line: Option<usize>, kind: &str, key: Option<&str>, message: String) {
        self.push_at(usize::MAX, line, kind, key, message);
    }

    fn push_at(
        &mut self,
        at: usize,
        line: Option<usize>,
        kind: &str,
        key: Option<&str>,
        message: String,
    ) {
        let block = if kind.is_empty() {
            "kms".to_owned()
        } else {
            format!("kms \"{kind}\"")
        };
        let e = ConfigError {
            file: self.file.to_owned(),
            line,
            block: Some(block),
            key: key.map(str::to_owned),
            message,
        };
        self.errors.push(((self.block, at), e));
    }

    fn err(&mut self, b: &RawBlock, key: Option<&str>, message: String) {
        let at = match key {
            None => 0,
            Some(k) => b
                .attrs
                .iter()
                .position(|a| a.key == k)
                .map_or(usize::MAX, |i| i + 1),
        };
        self.push_at(at, b.line, &b.kind, key, message);
    }

    /// `env://NAME` and `file://PATH`; other strings as they are.
    fn indirect(&mut self, b: &RawBlock, key: &str, s: &str) -> Option<String> {
        if let Some(name) = s.strip_prefix("env://") {
            let v = self.opts.var_raw(name);
            if v.is_none() {
                self.err(
                    b,
                    Some(key),
                    format!("environment variable {name} (from \"env://{name}\") is not set"),
                );
            }
            return v;
        }
        if let Some(path) = s.strip_prefix("file://") {
            return match std::fs::read_to_string(path) {
                Ok(mut v) => {
                    if v.ends_with('\n') {
                        v.pop();
                        if v.ends_with('\r') {
                            v.pop();
                        }
                    }
                    Some(v)
                }
                Err(e) => {
                    self.err(
                        b,
                        Some(key),
                        format!("cannot read file {path} (from \"file://{path}\"): {e}"),
                    );
                    None
                }
            };
        }
        Some(s.to_owned())
    }
}

/// The attributes of one block, with `env://` and `file://` resolved and types checked.
/// An attribute with a problem is reported once, in file order, and then counts as given
/// but unusable, so that no "missing" error follows it.
struct Attrs<'b> {
    block: &'b RawBlock,
    vals: HashMap<&'b str, Val>,
    failed: HashSet<&'b str>,
}

impl Attrs<'_> {
    fn given(&self, key: &str) -> bool {
        self.vals.contains_key(key) || self.failed.contains(key)
    }

    /// A string attribute (a number is taken as its text, as Boundary does); `None` when
    /// absent, empty or unusable.
    fn string(&self, key: &str) -> Option<String> {
        match self.vals.get(key)? {
            Val::Str(s) if !s.is_empty() => Some(s.clone()),
            Val::Num(n) => Some(n.clone()),
            _ => None,
        }
    }

    /// A boolean attribute; `false` when absent or unusable.
    fn boolean(&self, key: &str) -> bool {
        match self.vals.get(key) {
            Some(Val::Bool(b)) => *b,
            Some(Val::Str(s) | Val::Num(s)) => parse_bool(s).unwrap_or(false),
            _ => false,
        }
    }
}

/// The value types an attribute takes.
#[derive(Clone, Copy)]
enum Ty {
    /// `purpose`: a string or a list of strings.
    Purpose,
    /// A bool, or a string Go's `strconv.ParseBool` takes.
    Bool,
    /// A string, or a number (taken as its text).
    Str,
}

impl Ty {
    fn of(key: &str) -> Ty {
        match key {
            "purpose" => Ty::Purpose,
            "disabled" | "disallow_env_vars" | "key_not_required" => Ty::Bool,
            _ => Ty::Str,
        }
    }

    /// What the value should have been, when it is not of this type.
    fn mismatch(self, v: &Val) -> Option<&'static str> {
        match (self, v) {
            (Ty::Purpose, Val::Str(_) | Val::List(_)) => None,
            (Ty::Purpose, _) => Some("a string or a list of strings"),
            (Ty::Bool, Val::Bool(_)) => None,
            (Ty::Bool, Val::Str(s) | Val::Num(s)) if parse_bool(s).is_some() => None,
            (Ty::Bool, _) => Some("true or false"),
            (Ty::Str, Val::Str(_) | Val::Num(_)) => None,
            (Ty::Str, _) => Some("a string"),
        }
    }
}

/// A value in a type error: for a secret, only its kind.
fn described(key: &str, v: &Val) -> String {
    if SECRET_ATTRS.contains(&key) {
        format!("{} (value hidden)", v.kind())
    } else {
        v.describe()
    }
}

/// `disabled`, read before anything else: a disabled block is skipped entirely.
fn disabled(cx: &mut Ctx<'_>, b: &RawBlock) -> Result<bool, String> {
    let Some(a) = b.attrs.iter().rev().find(|a| a.key == "disabled") else {
        return Ok(false);
    };
    let v = match &a.value {
        Val::Str(s) => match cx.indirect(b, "disabled", s) {
            Some(s) => Val::Str(s),
            None => return Ok(false),
        },
        other => other.clone(),
    };
    match (&v, Ty::Bool.mismatch(&v)) {
        (_, Some(what)) => Err(format!("must be {what}, not {}", v.describe())),
        (Val::Bool(d), None) => Ok(*d),
        (Val::Str(s) | Val::Num(s), None) => Ok(parse_bool(s).unwrap_or(false)),
        _ => Ok(false),
    }
}

fn purposes(cx: &mut Ctx<'_>, a: &Attrs<'_>) -> Vec<Purpose> {
    let b = a.block;
    let mut items: Vec<String> = Vec::new();
    let mut reported = false;
    match a.vals.get("purpose") {
        None if a.failed.contains("purpose") => return Vec::new(),
        None => {
            cx.err(
                b,
                Some("purpose"),
                "missing: every kms block needs a purpose, e.g. purpose = \"root\"".into(),
            );
            return Vec::new();
        }
        Some(Val::Str(s)) => items.extend(s.split(',').map(str::to_owned)),
        Some(Val::List(l)) => {
            for item in l {
                match item {
                    Val::Str(s) => items.extend(s.split(',').map(str::to_owned)),
                    other => {
                        reported = true;
                        cx.err(
                            b,
                            Some("purpose"),
                            format!("list items must be strings, not {}", other.describe()),
                        );
                    }
                }
            }
        }
        Some(other) => {
            cx.err(
                b,
                Some("purpose"),
                format!(
                    "must be a string or a list of strings, not {}",
                    other.describe()
                ),
            );
            return Vec::new();
        }
    }
    let mut out = Vec::new();
    for raw in items {
        let norm = raw.trim().to_ascii_lowercase();
        if norm.is_empty() {
            continue;
        }
        match norm.parse::<Purpose>() {
            Ok(p) if out.contains(&p) => {
                reported = true;
                cx.err(
                    b,
                    Some("purpose"),
                    format!("purpose \"{p}\" is listed twice"),
                );
            }
            Ok(p) => out.push(p),
            Err(_) => {
                reported = true;
                let s = suggest(&norm, Purpose::ALL.iter().map(|p| p.as_str()));
                let valid: Vec<&str> = Purpose::ALL.iter().map(|p| p.as_str()).collect();
                cx.err(
                    b,
                    Some("purpose"),
                    format!(
                        "unknown purpose {}{} (valid: {})",
                        shown(&norm),
                        did_you_mean(s),
                        valid.join(", ")
                    ),
                );
            }
        }
    }
    if out.is_empty() && !reported {
        cx.err(
            b,
            Some("purpose"),
            "is empty: every kms block needs a purpose, e.g. purpose = \"root\"".into(),
        );
    }
    out
}

/// Decodes an aead `key`: standard base64, padded or not, of exactly 32 bytes; surrounding
/// white space is ignored.
///
/// # Errors
/// A message saying the text is `not base64`, or that it `decodes to N bytes, need 32`. It
/// never shows the text.
///
/// ```
/// assert!(kms_config::decode_aead_key("FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE=").is_ok());
/// assert!(kms_config::decode_aead_key("AAAA").unwrap_err().contains("decodes to 3 bytes, need 32"));
/// ```
pub fn decode_aead_key(text: &str) -> Result<Key256, String> {
    let t = text.trim();
    let engines = [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::STANDARD_NO_PAD,
    ];
    let bytes = engines
        .iter()
        .find_map(|e| e.decode(t).ok())
        .ok_or_else(|| {
            "is not base64 (standard alphabet, as `kms keygen` prints; value hidden)".to_owned()
        })?;
    let bytes = zeroize::Zeroizing::new(bytes);
    Key256::from_slice(&bytes).map_err(|n| format!("decodes to {n} bytes, need 32 (value hidden)"))
}

fn aead(cx: &mut Ctx<'_>, a: &Attrs<'_>) -> Option<BackendConfig> {
    let b = a.block;
    if let Some(t) = a.string("aead_type") {
        if !t.eq_ignore_ascii_case("aes-gcm") {
            cx.err(
                b,
                Some("aead_type"),
                format!(
                    "unsupported aead_type {}: the only one is \"aes-gcm\"",
                    shown(&t)
                ),
            );
        }
    }
    let key_id = a.string("key_id").unwrap_or_default();
    let key = match a.vals.get("key") {
        None if a.given("key") => None,
        None => {
            cx.err(
                b,
                Some("key"),
                "missing: an aead stanza needs key = base64 of 32 bytes (kms keygen prints one)"
                    .into(),
            );
            None
        }
        Some(v) => {
            let text = match v {
                Val::Str(s) => s.clone(),
                Val::Num(n) => n.clone(),
                _ => String::new(),
            };
            match decode_aead_key(&text) {
                Ok(k) => Some(k),
                Err(m) => {
                    cx.err(b, Some("key"), m);
                    None
                }
            }
        }
    };
    Some(BackendConfig::Aead(AeadConfig { key: key?, key_id }))
}

fn env_first(
    opts: &LoadOptions,
    disallow: bool,
    names: &[&'static str],
) -> Option<Sourced<String>> {
    if disallow {
        return None;
    }
    names.iter().find_map(|n| {
        opts.var(n).map(|v| Sourced {
            value: v,
            source: Source::Env(n),
        })
    })
}

fn stanza(v: Option<String>) -> Option<Sourced<String>> {
    v.map(|value| Sourced {
        value,
        source: Source::Stanza,
    })
}

fn awskms(cx: &mut Ctx<'_>, a: &Attrs<'_>) -> Option<BackendConfig> {
    let b = a.block;
    let opts = cx.opts;
    let disallow = a.boolean("disallow_env_vars");
    let key_not_required = a.boolean("key_not_required");
    let kms_key_id_attr = a.string("kms_key_id");
    let key_id_attr = a.string("key_id");
    let endpoint_attr = a.string("endpoint");
    let region_attr = a.string("region");
    let access = a.string("access_key");
    let secret = a.string("secret_key");
    let token = a.string("session_token");
    let shared_creds_filename = a.string("shared_creds_filename");
    let shared_creds_profile = a.string("shared_creds_profile");
    let role_arn = a.string("role_arn");
    let role_session_name = a.string("role_session_name");
    let web_identity_token_file = a.string("web_identity_token_file");

    let kms_key_id = env_first(
        opts,
        disallow,
        &["AWSKMS_WRAPPER_KEY_ID", "VAULT_AWSKMS_SEAL_KEY_ID"],
    )
    .or_else(|| stanza(kms_key_id_attr))
    .or_else(|| stanza(key_id_attr.clone()));
    if kms_key_id.is_none()
        && !key_not_required
        && !a.failed.contains("kms_key_id")
        && !a.failed.contains("key_id")
    {
        let env = if disallow {
            " (the environment is ignored: disallow_env_vars = true)"
        } else {
            " or AWSKMS_WRAPPER_KEY_ID"
        };
        cx.err(
            b,
            Some("kms_key_id"),
            format!("missing: set kms_key_id{env}, or key_not_required = true for a wrapper that only decrypts"),
        );
    }
    let endpoint = env_first(opts, disallow, &["AWSKMS_ENDPOINT", "AWS_KMS_ENDPOINT"])
        .or_else(|| stanza(endpoint_attr));
    let region = stanza(region_attr)
        .or_else(|| env_first(opts, disallow, &["AWS_REGION", "AWS_DEFAULT_REGION"]));

    let (access_given, secret_given) = (a.given("access_key"), a.given("secret_key"));
    let credentials = match (access, secret) {
        (Some(access_key), Some(secret_key)) => Some(StaticCredentials {
            access_key,
            secret_key: SecretString::new(secret_key),
            session_token: token.map(SecretString::new),
            source: Source::Stanza,
        }),
        (Some(_), None) => {
            if !secret_given {
                cx.err(
                    b,
                    Some("secret_key"),
                    "missing: access_key is set, so secret_key is needed too".into(),
                );
            }
            None
        }
        (None, Some(_)) => {
            if !access_given {
                cx.err(
                    b,
                    Some("access_key"),
                    "missing: secret_key is set, so access_key is needed too".into(),
                );
            }
            None
        }
        (None, None) => {
            if token.is_some() && !access_given && !secret_given {
                cx.err(
                    b,
                    Some("session_token"),
                    "is set, but access_key and secret_key are not; a session token goes with them"
                        .into(),
                );
            }
            if disallow || access_given || secret_given {
                None
            } else {
                match (
                    opts.var("AWS_ACCESS_KEY_ID"),
                    opts.var("AWS_SECRET_ACCESS_KEY"),
                ) {
                    (Some(access_key), Some(secret_key)) => Some(StaticCredentials {
                        access_key,
                        secret_key: SecretString::new(secret_key),
                        session_token: opts.var("AWS_SESSION_TOKEN").map(SecretString::new),
                        source: Source::Env("AWS_ACCESS_KEY_ID"),
                    }),
                    _ => None,
                }
            }
        }
    };
    Some(BackendConfig::AwsKms(AwsKmsConfig {
        kms_key_id,
        region,
        endpoint,
        credentials,
        shared_creds_filename,
        shared_creds_profile,
        role_arn,
        role_session_name,
        web_identity_token_file,
        disallow_env_vars: disallow,
        key_not_required,
        key_id: key_id_attr,
    }))
}

/// The key id that root and previous-root must not share, and where it came from.
fn compared_key_id(c: &BackendConfig) -> Option<(String, String)> {
    match c {
        BackendConfig::Aead(a) => Some((a.key_id.clone(), "key_id".to_owned())),
        BackendConfig::AwsKms(a) => a.kms_key_id.as_ref().map(|k| {
            let from = match k.source {
                Source::Stanza => "kms_key_id".to_owned(),
                Source::Env(v) => format!("kms_key_id, from env {v}"),
            };
            (k.value.clone(), from)
        }),
    }
}

/// The kinds a caller has compiled in; none named means every kind this crate reads.
fn known_kinds(opts: &LoadOptions) -> Vec<String> {
    if opts.known_kinds.is_empty() {
        crate::KINDS.iter().map(|k| (*k).to_owned()).collect()
    } else {
        opts.known_kinds
            .iter()
            .map(|k| k.to_ascii_lowercase())
            .collect()
    }
}

pub(crate) fn resolve(
    blocks: Vec<RawBlock>,
    problems: Vec<ConfigError>,
    file: &str,
    opts: &LoadOptions,
) -> Result<KmsConfig, ConfigErrors> {
    let mut cx = Ctx {
        file,
        opts,
        errors: problems.into_iter().map(|e| ((0, 0), e)).collect(),
        block: 0,
    };
    let known = known_kinds(opts);
    let mut wrappers: Vec<WrapperConfig> = Vec::new();
    // Every purpose of every enabled block, with where it is, for the checks across blocks.
    let mut seen: Vec<(Purpose, String)> = Vec::new();
    for (i, b) in blocks.iter().enumerate() {
        cx.block = i;
        match disabled(&mut cx, b) {
            Ok(true) => continue,
            Ok(false) => {}
            Err(m) => cx.err(b, Some("disabled"), m),
        }
        for (key, msg) in &b.problems {
            cx.err(b, key.as_deref(), msg.clone());
        }
        if b.kind.is_empty() {
            continue;
        }
        if !known.contains(&b.kind) {
            let s = suggest(&b.kind, known.iter().map(String::as_str));
            cx.err(
                b,
                None,
                format!(
                    "unknown kms type {}{} (types compiled in: {})",
                    shown(&b.kind),
                    did_you_mean(s),
                    known.join(", ")
                ),
            );
            continue;
        }
        let Some(allowed) = attributes_of(&b.kind) else {
            cx.err(
                b,
                None,
                format!(
                    "kms type \"{}\" is compiled in, but kms-config cannot read its stanza",
                    b.kind
                ),
            );
            continue;
        };
        let mut attrs = Attrs {
            block: b,
            vals: HashMap::new(),
            failed: HashSet::new(),
        };
        let mut set: HashSet<&str> = HashSet::new();
        for RawAttr { key, value } in &b.attrs {
            let key = key.as_str();
            if !allowed.contains(&key) {
                let s = suggest(key, allowed.iter().copied());
                cx.err(
                    b,
                    Some(key),
                    format!(
                        "unknown attribute for kms \"{}\"{}",
                        b.kind,
                        did_you_mean(s)
                    ),
                );
                continue;
            }
            if !set.insert(key) {
                cx.err(b, Some(key), "is set twice".into());
                continue;
            }
            if key == "disabled" {
                continue;
            }
            let value = match value {
                Val::Str(s) => match cx.indirect(b, key, s) {
                    Some(v) => Val::Str(v),
                    None => {
                        attrs.failed.insert(key);
                        continue;
                    }
                },
                other => other.clone(),
            };
            if let Some(what) = Ty::of(key).mismatch(&value) {
                cx.err(
                    b,
                    Some(key),
                    format!("must be {what}, not {}", described(key, &value)),
                );
                attrs.failed.insert(key);
                continue;
            }
            attrs.vals.insert(key, value);
        }
        let ps = purposes(&mut cx, &attrs);
        let typed = match b.kind.as_str() {
            "aead" => aead(&mut cx, &attrs),
            _ => awskms(&mut cx, &attrs),
        };
        let here = match b.line {
            Some(l) => format!("kms \"{}\" block at line {l}", b.kind),
            None => format!("kms \"{}\" block", b.kind),
        };
        for p in &ps {
            if let Some((_, other)) = seen.iter().find(|(q, _)| q == p && !p.may_repeat()) {
                let m = format!("purpose \"{p}\" is already used by the {other}; only downstream-worker-auth may repeat");
                cx.err(b, Some("purpose"), m);
            }
            seen.push((*p, here.clone()));
        }
        if let Some(t) = typed {
            for p in ps {
                wrappers.push(WrapperConfig {
                    purpose: p,
                    kind: b.kind.clone(),
                    line: b.line.unwrap_or(0),
                    backend: t.clone(),
                });
            }
        }
    }
    cx.block = usize::MAX;
    across_blocks(&mut cx, &wrappers, &seen);
    // In file order: by block, then by attribute; otherwise in the order found.
    cx.errors.sort_by_key(|(at, e)| (e.line, *at));
    let errors: Vec<ConfigError> = cx.errors.into_iter().map(|(_, e)| e).collect();
    if errors.is_empty() {
        Ok(KmsConfig {
            source: file.to_owned(),
            wrappers,
        })
    } else {
        Err(ConfigErrors(errors))
    }
}

/// previous-root needs a root, with another key.
fn across_blocks(cx: &mut Ctx<'_>, wrappers: &[WrapperConfig], seen: &[(Purpose, String)]) {
    let has_root = seen.iter().any(|(p, _)| *p == Purpose::Root);
    let roots: Vec<&WrapperConfig> = wrappers
        .iter()
        .filter(|w| w.purpose == Purpose::Root)
        .collect();
    for prev in wrappers
        .iter()
        .filter(|w| w.purpose == Purpose::PreviousRoot)
    {
        let line = (prev.line > 0).then_some(prev.line);
        if !has_root {
            cx.push(
                line,
                &prev.kind,
                Some("purpose"),
                "previous-root without a root stanza: previous-root keys only decrypt, root encrypts new data".into(),
            );
        }
        for r in &roots {
            if let (Some((a, from)), Some((b, _))) =
                (compared_key_id(&prev.backend), compared_key_id(&r.backend))
            {
                if a == b {
                    let m = format!(
                        "root (line {}) and previous-root have the same key id {} ({from}); previous-root must name the old key",
                        r.line,
                        shown(&a)
                    );
                    cx.push(line, &prev.kind, Some("key_id"), m);
                    continue;
                }
            }
            if let (BackendConfig::Aead(p), BackendConfig::Aead(q)) = (&prev.backend, &r.backend) {
                if p.key == q.key {
                    let m = format!("root (line {}) and previous-root have the same key (value hidden); previous-root must be the old key", r.line);
                    cx.push(line, &prev.kind, Some("key"), m);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let attrs = AWSKMS_ATTRS.iter().copied();
        assert_eq!(suggest("kms_keyid", attrs.clone()), Some("kms_key_id"));
        assert_eq!(suggest("secret", attrs.clone()), None);
        assert_eq!(suggest("regoin", attrs.clone()), Some("region"));
        assert_eq!(suggest("x", attrs), None);
        let ps = || Purpose::ALL.iter().map(|p| p.as_str());
        assert_eq!(suggest("rooot", ps()), Some("root"));
        assert_eq!(suggest("previous_root", ps()), Some("previous-root"));
        assert_eq!(
            suggest("worker-auth-store", ps()),
            Some("worker-auth-storage")
        );
        assert_eq!(suggest("foo", ps()), None);
        assert_eq!(suggest("aws-kms", ["aead", "awskms"]), Some("awskms"));
    }

    #[test]
    fn go_parse_bool() {
        for t in ["1", "t", "T", "true", "TRUE", "True"] {
            assert_eq!(parse_bool(t), Some(true));
        }
        for f in ["0", "f", "F", "false", "FALSE", "False"] {
            assert_eq!(parse_bool(f), Some(false));
        }
        assert_eq!(parse_bool("yes"), None);
        assert_eq!(parse_bool(""), None);
    }

    #[test]
    fn aead_key_decoding() {
        let padded = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE=";
        assert!(decode_aead_key(padded).is_ok());
        assert!(decode_aead_key(padded.trim_end_matches('=')).is_ok());
        assert!(decode_aead_key(&format!("{padded}\n")).is_ok());
        let e = decode_aead_key("not-base64!").err().unwrap_or_default();
        assert!(e.contains("not base64"), "{e}");
        let e = decode_aead_key("AAAA").err().unwrap_or_default();
        assert!(e.contains("decodes to 3 bytes, need 32"), "{e}");
        let url_safe = "FqxvapaN8ULxnZmK7-0CvoM985iptfJWW7YP3uiVjkE=";
        assert!(decode_aead_key(url_safe)
            .err()
            .unwrap_or_default()
            .contains("not base64"));
    }
}
