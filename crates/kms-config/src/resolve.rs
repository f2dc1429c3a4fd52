//! Typing, validation and environment resolution of raw `kms` blocks.

use std::collections::HashMap;

use base64::Engine;
use kms_core::{Key256, Purpose};

use crate::error::{ConfigError, ConfigErrors};
use crate::raw::{RawAttr, RawBlock, Val};
use crate::{AeadConfig, AwsKmsConfig, BackendConfig, KmsConfig, LoadOptions, SecretString, Source, Sourced, StaticCredentials, WrapperConfig};

/// Attributes of each stanza type.
const AEAD_ATTRS: &[&str] = &["purpose", "aead_type", "key", "key_id", "disabled"];
const AWSKMS_ATTRS: &[&str] = &[
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
/// Attributes whose values are secrets: never shown in any message.
const SECRET_ATTRS: &[&str] = &["key", "secret_key", "session_token"];

/// The attributes a stanza type accepts, for the types this crate understands.
pub(crate) fn attributes_of(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "aead" => Some(AEAD_ATTRS),
        "awskms" => Some(AWSKMS_ATTRS),
        _ => None,
    }
}

/// The closest candidate within a small edit distance.
fn suggest<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(given, c), c))
        .filter(|(d, c)| *d <= 3.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn did_you_mean(s: Option<&str>) -> String {
    s.map_or_else(String::new, |s| format!(" (did you mean \"{s}\"?)"))
}

struct Ctx<'a> {
    file: &'a str,
    errors: Vec<ConfigError>,
}

impl Ctx<'_> {
    fn err(&mut self, b: &RawBlock, key: Option<&str>, message: String) {
        self.errors.push(ConfigError {
            file: self.file.to_owned(),
            line: b.line,
            block: Some(format!("kms \"{}\"", b.kind)),
            key: key.map(str::to_owned),
            message,
        });
    }
}

/// A typed attribute reader for one block. Records problems in the context.
struct Attrs<'b> {
    block: &'b RawBlock,
    map: HashMap<&'b str, &'b Val>,
}

impl<'b> Attrs<'b> {
    fn get(&self, k: &str) -> Option<&'b Val> {
        self.map.get(k).copied()
    }

    fn shown(&self, key: &str, s: &str) -> String {
        if SECRET_ATTRS.contains(&key) {
            "(value hidden)".to_owned()
        } else {
            format!("(value {s:?})")
        }
    }

    /// A string attribute, with `env://` and `file://` resolved.
    fn string(&self, cx: &mut Ctx<'_>, opts: &LoadOptions, key: &str) -> Option<String> {
        match self.get(key)? {
            Val::Str(s) => resolve_indirection(cx, self.block, opts, key, s),
            other => {
                cx.err(self.block, Some(key), format!("must be a string, not {}", other.describe()));
                None
            }
        }
    }

    fn boolean(&self, cx: &mut Ctx<'_>, key: &str) -> bool {
        match self.get(key) {
            None => false,
            Some(Val::Bool(b)) => *b,
            Some(Val::Str(s)) if s.eq_ignore_ascii_case("true") => true,
            Some(Val::Str(s)) if s.eq_ignore_ascii_case("false") => false,
            Some(other) => {
                let shown = match other {
                    Val::Str(s) => self.shown(key, s),
                    o => format!("({})", o.describe()),
                };
                cx.err(self.block, Some(key), format!("must be true or false {shown}"));
                false
            }
        }
    }
}

fn resolve_indirection(cx: &mut Ctx<'_>, b: &RawBlock, opts: &LoadOptions, key: &str, s: &str) -> Option<String> {
    if let Some(name) = s.strip_prefix("env://") {
        return match opts.var(name) {
            Some(v) => Some(v),
            None => {
                cx.err(b, Some(key), format!("environment variable {name} (from \"env://{name}\") is not set"));
                None
            }
        };
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
                cx.err(b, Some(key), format!("cannot read file {path} (from \"file://{path}\"): {e}"));
                None
            }
        };
    }
    Some(s.to_owned())
}

/// `disabled = true` (or "true") skips a block entirely, invalid contents included.
fn is_disabled(b: &RawBlock) -> bool {
    b.attrs.iter().any(|a| {
        a.key == "disabled"
            && match &a.value {
                Val::Bool(v) => *v,
                Val::Str(s) => s.eq_ignore_ascii_case("true"),
                _ => false,
            }
    })
}

fn purposes(cx: &mut Ctx<'_>, b: &RawBlock, v: Option<&Val>) -> Vec<Purpose> {
    let mut items: Vec<String> = Vec::new();
    match v {
        None => {
            cx.err(b, Some("purpose"), "missing: every kms block needs a purpose (e.g. \"root\")".into());
            return Vec::new();
        }
        Some(Val::Str(s)) => items.extend(s.split(',').map(str::to_owned)),
        Some(Val::List(l)) => {
            for item in l {
                match item {
                    Val::Str(s) => items.extend(s.split(',').map(str::to_owned)),
                    other => cx.err(b, Some("purpose"), format!("list items must be strings, not {}", other.describe())),
                }
            }
        }
        Some(other) => {
            cx.err(b, Some("purpose"), format!("must be a string or a list of strings, not {}", other.describe()));
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
            Ok(p) if out.contains(&p) => cx.err(b, Some("purpose"), format!("purpose \"{p}\" is listed twice")),
            Ok(p) => out.push(p),
            Err(_) => {
                let s = suggest(&norm, Purpose::ALL.iter().map(|p| p.as_str()));
                cx.err(b, Some("purpose"), format!("unknown purpose \"{norm}\"{}", did_you_mean(s)));
            }
        }
    }
    if out.is_empty() && !cx.errors.iter().any(|e| e.key.as_deref() == Some("purpose") && e.line == b.line) {
        cx.err(b, Some("purpose"), "is empty".into());
    }
    out
}

fn aead(cx: &mut Ctx<'_>, a: &Attrs<'_>, opts: &LoadOptions) -> Option<BackendConfig> {
    let b = a.block;
    if let Some(t) = a.string(cx, opts, "aead_type") {
        if !t.eq_ignore_ascii_case("aes-gcm") {
            cx.err(b, Some("aead_type"), format!("unsupported aead_type {t:?}: the only type is \"aes-gcm\""));
        }
    }
    let key_id = a.string(cx, opts, "key_id").unwrap_or_default();
    let key = match a.string(cx, opts, "key") {
        None if a.get("key").is_none() => {
            cx.err(b, Some("key"), "missing: an aead stanza needs key = base64 of 32 bytes (kms keygen makes one)".into());
            None
        }
        None => None,
        Some(text) => {
            let t = text.trim();
            let engines = [&base64::engine::general_purpose::STANDARD, &base64::engine::general_purpose::STANDARD_NO_PAD];
            match engines.iter().find_map(|e| e.decode(t).ok()) {
                None => {
                    cx.err(b, Some("key"), "is not valid base64 (value hidden)".into());
                    None
                }
                Some(bytes) => match Key256::from_slice(&bytes) {
                    Ok(k) => Some(k),
                    Err(n) => {
                        cx.err(b, Some("key"), format!("decodes to {n} bytes, need 32 (value hidden)"));
                        None
                    }
                },
            }
        }
    };
    Some(BackendConfig::Aead(AeadConfig { key: key?, key_id }))
}

fn env_first(opts: &LoadOptions, disallow: bool, names: &[&'static str]) -> Option<Sourced<String>> {
    if disallow {
        return None;
    }
    names.iter().find_map(|n| opts.var(n).map(|v| Sourced { value: v, source: Source::Env(n) }))
}

fn awskms(cx: &mut Ctx<'_>, a: &Attrs<'_>, opts: &LoadOptions) -> Option<BackendConfig> {
    let b = a.block;
    let disallow = a.boolean(cx, "disallow_env_vars");
    let key_not_required = a.boolean(cx, "key_not_required");
    let stanza = |cx: &mut Ctx<'_>, key: &str| a.string(cx, opts, key).filter(|s| !s.is_empty()).map(|v| Sourced { value: v, source: Source::Stanza });

    let key_id_name = a.string(cx, opts, "key_id");
    let kms_key_id = env_first(opts, disallow, &["AWSKMS_WRAPPER_KEY_ID", "VAULT_AWSKMS_SEAL_KEY_ID"])
        .or_else(|| stanza(cx, "kms_key_id"))
        .or_else(|| key_id_name.clone().filter(|s| !s.is_empty()).map(|v| Sourced { value: v, source: Source::Stanza }));
    if kms_key_id.is_none() && !key_not_required {
        cx.err(b, Some("kms_key_id"), "missing: set kms_key_id (or AWSKMS_WRAPPER_KEY_ID), or key_not_required = true for a decrypt-only wrapper".into());
    }
    let endpoint = env_first(opts, disallow, &["AWSKMS_ENDPOINT", "AWS_KMS_ENDPOINT"]).or_else(|| stanza(cx, "endpoint"));
    let region = stanza(cx, "region").or_else(|| env_first(opts, disallow, &["AWS_REGION", "AWS_DEFAULT_REGION"]));

    let access = a.string(cx, opts, "access_key").filter(|s| !s.is_empty());
    let secret = a.string(cx, opts, "secret_key").filter(|s| !s.is_empty());
    let token = a.string(cx, opts, "session_token").filter(|s| !s.is_empty());
    let credentials = match (access, secret) {
        (Some(access_key), Some(secret_key)) => Some(StaticCredentials {
            access_key,
            secret_key: SecretString::new(secret_key),
            session_token: token.map(SecretString::new),
            source: Source::Stanza,
        }),
        (Some(_), None) => {
            cx.err(b, Some("secret_key"), "missing: access_key is set, so secret_key is needed too".into());
            None
        }
        (None, Some(_)) => {
            cx.err(b, Some("access_key"), "missing: secret_key is set, so access_key is needed too".into());
            None
        }
        (None, None) if !disallow => match (opts.var("AWS_ACCESS_KEY_ID"), opts.var("AWS_SECRET_ACCESS_KEY")) {
            (Some(access_key), Some(secret_key)) => Some(StaticCredentials {
                access_key,
                secret_key: SecretString::new(secret_key),
                session_token: opts.var("AWS_SESSION_TOKEN").map(SecretString::new),
                source: Source::Env("AWS_ACCESS_KEY_ID"),
            }),
            _ => None,
        },
        (None, None) => None,
    };
    Some(BackendConfig::AwsKms(AwsKmsConfig {
        kms_key_id,
        region,
        endpoint,
        credentials,
        shared_creds_filename: a.string(cx, opts, "shared_creds_filename"),
        shared_creds_profile: a.string(cx, opts, "shared_creds_profile"),
        role_arn: a.string(cx, opts, "role_arn"),
        role_session_name: a.string(cx, opts, "role_session_name"),
        web_identity_token_file: a.string(cx, opts, "web_identity_token_file"),
        disallow_env_vars: disallow,
        key_not_required,
        key_id: key_id_name,
    }))
}

/// The key id used to compare root and previous-root.
fn compared_key_id(c: &BackendConfig) -> Option<String> {
    match c {
        BackendConfig::Aead(a) => Some(a.key_id.clone()),
        BackendConfig::AwsKms(a) => a.kms_key_id.as_ref().map(|k| k.value.clone()),
    }
}

pub(crate) fn resolve(blocks: Vec<RawBlock>, file: &str, opts: &LoadOptions) -> Result<KmsConfig, ConfigErrors> {
    let mut cx = Ctx { file, errors: Vec::new() };
    let mut wrappers: Vec<WrapperConfig> = Vec::new();
    // (purpose, block description) of every purpose seen, for duplicate detection.
    let mut seen: Vec<(Purpose, String)> = Vec::new();
    for b in &blocks {
        if is_disabled(b) {
            continue;
        }
        for (key, msg) in &b.problems {
            cx.err(b, key.as_deref(), msg.clone());
        }
        if b.kind.is_empty() {
            continue;
        }
        let allowed = match attributes_of(&b.kind).filter(|_| opts.known_kinds.iter().any(|k| k == &b.kind)) {
            Some(a) => a,
            None => {
                let compiled = if opts.known_kinds.is_empty() { "none".to_owned() } else { opts.known_kinds.join(", ") };
                cx.err(b, None, format!("unknown kms type \"{}\" (types compiled into this build: {compiled})", b.kind));
                continue;
            }
        };
        let mut map = HashMap::new();
        for RawAttr { key, value } in &b.attrs {
            if !allowed.contains(&key.as_str()) {
                let s = suggest(key, allowed.iter().copied());
                cx.err(b, Some(key), format!("unknown attribute for kms \"{}\"{}", b.kind, did_you_mean(s)));
                continue;
            }
            if map.insert(key.as_str(), value).is_some() {
                cx.err(b, Some(key), "is set twice".into());
            }
        }
        let attrs = Attrs { block: b, map };
        let ps = purposes(&mut cx, b, attrs.get("purpose"));
        let typed = match b.kind.as_str() {
            "aead" => aead(&mut cx, &attrs, opts),
            _ => awskms(&mut cx, &attrs, opts),
        };
        let here = match b.line {
            Some(l) => format!("kms \"{}\" block at line {l}", b.kind),
            None => format!("kms \"{}\" block", b.kind),
        };
        for p in &ps {
            if let Some((_, other)) = seen.iter().find(|(q, _)| q == p && !p.may_repeat()) {
                cx.err(b, Some("purpose"), format!("purpose \"{p}\" is already used by the {other}; only downstream-worker-auth may repeat"));
            }
            seen.push((*p, here.clone()));
        }
        if let Some(t) = typed {
            for p in ps {
                wrappers.push(WrapperConfig { purpose: p, kind: b.kind.clone(), line: b.line.unwrap_or(0), backend: t.clone() });
            }
        }
    }
    let roots: Vec<&WrapperConfig> = wrappers.iter().filter(|w| w.purpose == Purpose::Root).collect();
    for prev in wrappers.iter().filter(|w| w.purpose == Purpose::PreviousRoot) {
        let at = if prev.line > 0 { Some(prev.line) } else { None };
        let block = Some(format!("kms \"{}\"", prev.kind));
        if roots.is_empty() && !seen.iter().any(|(p, _)| *p == Purpose::Root) {
            cx.errors.push(ConfigError {
                file: file.to_owned(),
                line: at,
                block: block.clone(),
                key: Some("purpose".into()),
                message: "previous-root needs a root stanza: previous-root keys only decrypt, root encrypts new data".into(),
            });
        }
        for r in &roots {
            if let (Some(a), Some(b)) = (compared_key_id(&prev.backend), compared_key_id(&r.backend)) {
                if a == b && r.kind == prev.kind {
                    cx.errors.push(ConfigError {
                        file: file.to_owned(),
                        line: at,
                        block: block.clone(),
                        key: Some("key_id".into()),
                        message: format!("root and previous-root have the same key id {a:?}; previous-root must be the old key"),
                    });
                }
            }
        }
    }
    if cx.errors.is_empty() {
        Ok(KmsConfig { source: file.to_owned(), wrappers })
    } else {
        Err(ConfigErrors(cx.errors))
    }
}
