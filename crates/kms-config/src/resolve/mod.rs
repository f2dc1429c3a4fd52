//! Typing, validation and environment resolution of raw `kms` blocks, generic over the
//! schemas of the backends the caller registered. Every problem is collected; nothing stops
//! at the first.

mod attrs;
mod purposes;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use kms_core::stanza::{
    Attribute, BackendFactory, EnvPrecedence, Schema, Source, Stanza, Value, ValueType,
};
use kms_core::{Purpose, SecretString};

use crate::error::{ConfigError, ConfigErrors};
use crate::raw::{RawAttr, RawBlock, Val};
use crate::{KmsConfig, LoadOptions, WrapperConfig};

pub(crate) use attrs::suggest;
use attrs::{described, did_you_mean, indirect, mismatch, parse_bool, shown};

/// Attributes every stanza has, whatever its kind.
const PURPOSE: &str = "purpose";
const DISABLED: &str = "disabled";

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
}

/// The attributes of one block, with `env://` and `file://` resolved and types checked.
/// An attribute with a problem is reported once, in file order, and then counts as given
/// but unusable, so that no "missing" error follows it.
pub(crate) struct Attrs<'b> {
    pub(crate) block: &'b RawBlock,
    pub(crate) vals: HashMap<&'b str, Val>,
    pub(crate) failed: HashSet<&'b str>,
}

/// `disabled`, read before anything else: a disabled block is skipped entirely.
fn disabled(cx: &mut Ctx<'_>, b: &RawBlock) -> Result<bool, String> {
    let Some(a) = b.attrs.iter().rev().find(|a| a.key == DISABLED) else {
        return Ok(false);
    };
    let v = match &a.value {
        Val::Str(s) => match indirect(cx.opts, s) {
            Ok(s) => Val::Str(s),
            Err(m) => {
                cx.err(b, Some(DISABLED), m);
                return Ok(false);
            }
        },
        other => other.clone(),
    };
    match (&v, mismatch(ValueType::Bool, &v)) {
        (_, Some(what)) => Err(format!("must be {what}, not {}", v.describe())),
        (Val::Bool(d), None) => Ok(*d),
        (Val::Str(s) | Val::Num(s), None) => Ok(parse_bool(s).unwrap_or(false)),
        _ => Ok(false),
    }
}

/// Reads the block's attributes against `schema`: unknown and repeated attributes, `env://`
/// and `file://` values, and types.
fn read_attrs<'b>(cx: &mut Ctx<'_>, b: &'b RawBlock, schema: &Schema) -> Attrs<'b> {
    let mut attrs = Attrs {
        block: b,
        vals: HashMap::new(),
        failed: HashSet::new(),
    };
    let mut set: HashSet<&str> = HashSet::new();
    for RawAttr { key, value } in &b.attrs {
        let key = key.as_str();
        let spec = schema.attribute(key);
        if spec.is_none() && key != PURPOSE && key != DISABLED {
            let names = std::iter::once(PURPOSE)
                .chain(schema.attributes.iter().map(|a| a.name))
                .chain(std::iter::once(DISABLED));
            let s = suggest(key, names);
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
        if key == DISABLED {
            continue;
        }
        let resolves = spec.is_none_or(|a| a.indirect);
        let value = match value {
            Val::Str(s) if resolves => match indirect(cx.opts, s) {
                Ok(v) => Val::Str(v),
                Err(m) => {
                    cx.err(b, Some(key), m);
                    attrs.failed.insert(key);
                    continue;
                }
            },
            other => other.clone(),
        };
        let wrong = match spec {
            Some(a) => mismatch(a.ty, &value),
            None => purposes::mismatch(&value),
        };
        if let Some(what) = wrong {
            cx.err(
                b,
                Some(key),
                format!("must be {what}, not {}", described(spec, &value)),
            );
            attrs.failed.insert(key);
            continue;
        }
        attrs.vals.insert(key, value);
    }
    attrs
}

/// The stanza's own value of an attribute, typed; `None` when absent or unusable.
fn stanza_value(attr: &Attribute, v: Option<&Val>) -> Option<Value> {
    let v = v?;
    let text = match v {
        Val::Str(s) | Val::Num(s) => s.clone(),
        Val::Bool(b) if attr.ty == ValueType::Bool => return Some(Value::Bool(*b)),
        _ => return None,
    };
    Some(match attr.ty {
        ValueType::Bool => Value::Bool(parse_bool(&text).unwrap_or(false)),
        ValueType::Text if attr.secret => Value::Secret(SecretString::new(text)),
        ValueType::Text => Value::Text(text),
    })
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Text(s) => s.is_empty(),
        Value::Secret(s) => s.expose_secret().is_empty(),
        Value::Bool(_) => false,
    }
}

/// The first of `names` set (and not empty) in the environment.
fn from_env(opts: &LoadOptions, attr: &Attribute) -> Option<(Value, Source)> {
    attr.env.iter().find_map(|&n| {
        let v = opts.var(n)?;
        let v = match attr.ty {
            ValueType::Bool => Value::Bool(parse_bool(&v).unwrap_or(false)),
            ValueType::Text if attr.secret => Value::Secret(SecretString::new(v)),
            ValueType::Text => Value::Text(v),
        };
        Some((v, Source::Env(n)))
    })
}

/// Builds the stanza: each attribute's value from the block or the environment, by the
/// schema's precedence. An empty value counts as unset when a variable can stand in for it.
fn build_stanza(cx: &mut Ctx<'_>, a: &Attrs<'_>, schema: &Schema) -> Stanza {
    let b = a.block;
    let mut stanza = Stanza::new(schema.kind.clone());
    let env_off = schema.env_switch.is_some_and(|sw| {
        schema
            .attribute(sw)
            .and_then(|attr| stanza_value(attr, a.vals.get(sw)))
            == Some(Value::Bool(true))
    });
    for attr in schema.attributes {
        let own = stanza_value(attr, a.vals.get(attr.name));
        let env = || {
            if env_off {
                None
            } else {
                from_env(cx.opts, attr)
            }
        };
        // An empty value where a variable could give one counts as unset (still "given").
        let own = own
            .filter(|v| !is_empty(v) || attr.env.is_empty())
            .map(|v| (v, Source::Stanza));
        let chosen = match attr.precedence {
            EnvPrecedence::EnvFirst => env().or(own),
            EnvPrecedence::StanzaFirst => own.or_else(env),
        };
        if a.failed.contains(attr.name) {
            stanza.mark_unusable(attr.name);
        } else if a.vals.contains_key(attr.name) {
            stanza.mark_given(attr.name);
        }
        match chosen {
            Some((value, source)) => stanza.set(attr.name, value, source),
            None if attr.required && !a.failed.contains(attr.name) => {
                let message = match attr.hint {
                    Some(h) => format!("missing: {h}"),
                    None => format!("missing: kms \"{}\" needs {}", schema.kind, attr.name),
                };
                cx.err(b, Some(attr.name), message);
            }
            None => {}
        }
    }
    stanza
}

fn factory_of<'r>(opts: &'r LoadOptions, kind: &str) -> Option<&'r &'static dyn BackendFactory> {
    opts.backends.iter().find(|f| f.schema().kind == kind)
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
    let known: Vec<&str> = opts
        .backends
        .iter()
        .map(|f| f.schema().kind.as_str())
        .collect();
    let mut wrappers: Vec<WrapperConfig> = Vec::new();
    // Every purpose of every enabled block, with where it is, for the checks across blocks.
    let mut seen: Vec<(Purpose, String)> = Vec::new();
    for (i, b) in blocks.iter().enumerate() {
        cx.block = i;
        match disabled(&mut cx, b) {
            Ok(true) => continue,
            Ok(false) => {}
            Err(m) => cx.err(b, Some(DISABLED), m),
        }
        for (key, msg) in &b.problems {
            cx.err(b, key.as_deref(), msg.clone());
        }
        if b.kind.is_empty() {
            continue;
        }
        let Some(&factory) = factory_of(opts, &b.kind) else {
            let s = suggest(&b.kind, known.iter().copied());
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
        };
        let schema = factory.schema();
        let attrs = read_attrs(&mut cx, b, schema);
        let ps = purposes::purposes(&mut cx, &attrs);
        let stanza = build_stanza(&mut cx, &attrs, schema);
        let problems = factory.check(&stanza);
        let usable = problems.is_empty();
        for p in problems {
            cx.err(b, p.attribute, p.message);
        }
        let here = match b.line {
            Some(l) => format!("kms \"{}\" block at line {l}", b.kind),
            None => format!("kms \"{}\" block", b.kind),
        };
        for p in &ps {
            if let Some((_, other)) = seen.iter().find(|(q, _)| q == p && !p.may_repeat()) {
                let m = format!("purpose \"{p}\" is already used by the {other}; only downstream-worker-auth may repeat");
                cx.err(b, Some(PURPOSE), m);
            }
            seen.push((*p, here.clone()));
        }
        if usable {
            let stanza = Arc::new(stanza);
            for p in ps {
                wrappers.push(WrapperConfig {
                    purpose: p,
                    kind: schema.kind.clone(),
                    line: b.line.unwrap_or(0),
                    stanza: Arc::clone(&stanza),
                    factory,
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
        let kind = prev.kind.as_str();
        if !has_root {
            cx.push(
                line,
                kind,
                Some(PURPOSE),
                "previous-root without a root stanza: previous-root keys only decrypt, root encrypts new data".into(),
            );
        }
        for r in &roots {
            let same_kind = r.kind == prev.kind;
            if let (Some(a), Some(b)) = (
                prev.factory.key_identity(&prev.stanza),
                r.factory.key_identity(&r.stanza),
            ) {
                if a.id == b.id {
                    let m = format!(
                        "root (line {}) and previous-root have the same key id {} ({}); previous-root must name the old key",
                        r.line,
                        shown(&a.id),
                        a.from
                    );
                    cx.push(line, kind, Some(a.attribute), m);
                    continue;
                }
            }
            let same = same_kind
                .then(|| prev.factory.same_key_material(&prev.stanza, &r.stanza))
                .flatten();
            if let Some(attribute) = same {
                let m = format!("root (line {}) and previous-root have the same key (value hidden); previous-root must be the old key", r.line);
                cx.push(line, kind, Some(attribute), m);
            }
        }
    }
}
