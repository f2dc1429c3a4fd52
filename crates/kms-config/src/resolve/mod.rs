//! Typing, validation and environment resolution of raw `kms` blocks, generic over the
//! schemas of the backends the caller registered, following Boundary's own reading step by
//! step: configutil's `parseKMS` for every block (purposes, `disabled`, plugin settings,
//! every value as text), then `SetupKMSes` for the blocks that have a purpose (purposes,
//! types, each wrapper's settings, duplicates). What Boundary refuses is an error; what it
//! accepts but ignores is a warning. Every problem is collected; nothing stops at the first.

mod attrs;
mod purposes;
mod setup;

use std::collections::HashMap;

use kms_core::stanza::{
    Attribute, BackendFactory, EnvPrecedence, Schema, Source, Stanza, Value, ValueType,
};
use kms_core::SecretString;

use crate::error::{ConfigError, ConfigErrors};
use crate::raw::{RawBlock, Val};
use crate::{KmsConfig, LoadOptions};

pub(crate) use attrs::suggest;
use attrs::{
    described, did_you_mean, go_string, go_weak_bool, literal_url_warning, parse_bool,
    resolve_path, shown,
};

/// Settings configutil reads itself, whatever the block's type.
const PURPOSE: &str = "purpose";
const DISABLED: &str = "disabled";
const PLUGIN_PATH: &str = "plugin_path";
const PLUGIN_CHECKSUM: &str = "plugin_checksum";
const PLUGIN_HASH_METHOD: &str = "plugin_hash_method";

/// A problem found, with its place for sorting: (block index, attribute index) where the
/// attribute index is 0 for the block itself and `usize::MAX` for what is missing.
type Placed = ((usize, usize), ConfigError);

struct Ctx<'a> {
    file: &'a str,
    opts: &'a LoadOptions,
    errors: Vec<Placed>,
    warnings: Vec<Placed>,
    /// The index of the block being read, so that blocks sharing a line (JSON) stay apart.
    block: usize,
}

impl Ctx<'_> {
    fn problem(
        &self,
        at: usize,
        line: Option<usize>,
        block: Option<String>,
        key: Option<&str>,
        message: String,
    ) -> Placed {
        let e = ConfigError {
            file: self.file.to_owned(),
            line,
            block,
            key: key.map(str::to_owned),
            message,
        };
        ((self.block, at), e)
    }

    fn at(b: &RawBlock, key: Option<&str>) -> usize {
        match key {
            None => 0,
            Some(k) => b
                .attrs
                .iter()
                .position(|a| a.key == k)
                .map_or(usize::MAX, |i| i + 1),
        }
    }

    fn err(&mut self, b: &RawBlock, key: Option<&str>, message: String) {
        let p = self.problem(Self::at(b, key), b.line, Some(label(b)), key, message);
        self.errors.push(p);
    }

    fn warn(&mut self, b: &RawBlock, key: Option<&str>, message: String) {
        let p = self.problem(Self::at(b, key), b.line, Some(label(b)), key, message);
        self.warnings.push(p);
    }
}

/// `kms "TYPE"` or `seal "TYPE"`: how a block is named in messages.
fn label(b: &RawBlock) -> String {
    format!("{} \"{}\"", b.block, b.kind)
}

/// A block as configutil's `parseKMS` leaves it: its purposes and every other setting as
/// text (`disabled` and the plugin settings taken out).
struct Parsed<'b> {
    purposes: Vec<String>,
    disabled: bool,
    texts: Vec<(&'b str, String, &'b Val)>,
}

/// configutil's `parseKMS`, which Boundary runs on every block, with or without a purpose.
/// `None` when it refuses the block.
fn parse_block<'b>(cx: &mut Ctx<'_>, b: &'b RawBlock) -> Option<Parsed<'b>> {
    let before = cx.errors.len();
    let mut parsed = Parsed {
        purposes: Vec::new(),
        disabled: false,
        texts: Vec::new(),
    };
    let mut plugin: HashMap<&str, String> = HashMap::new();
    for a in &b.attrs {
        let key = a.key.as_str();
        match key {
            PURPOSE => match purposes::parse(&a.value) {
                Ok(p) => parsed.purposes = p,
                Err(m) => cx.err(b, Some(PURPOSE), m),
            },
            DISABLED => match go_weak_bool(&a.value) {
                Ok(_) => parsed.disabled = true,
                Err(m) => cx.err(b, Some(DISABLED), m),
            },
            _ => match go_string(&a.value) {
                Ok(text) if [PLUGIN_PATH, PLUGIN_CHECKSUM, PLUGIN_HASH_METHOD].contains(&key) => {
                    plugin.insert(key, text);
                }
                Ok(text) => parsed.texts.push((key, text, &a.value)),
                Err(m) => cx.err(b, Some(key), m),
            },
        }
    }
    let given = |k: &str| plugin.get(k).is_some_and(|v| !v.is_empty());
    if let Some(sum) = plugin.get(PLUGIN_CHECKSUM) {
        if sum.len() % 2 != 0 || !sum.bytes().all(|c| c.is_ascii_hexdigit()) {
            cx.err(
                b,
                Some(PLUGIN_CHECKSUM),
                "must be hex (a SHA-256 sum, as sha256sum prints it)".into(),
            );
        }
    }
    match (given(PLUGIN_PATH), given(PLUGIN_CHECKSUM)) {
        (true, false) => cx.err(
            b,
            Some(PLUGIN_CHECKSUM),
            "missing: plugin_path is set, so Boundary needs plugin_checksum too".into(),
        ),
        (false, true) => cx.err(
            b,
            Some(PLUGIN_PATH),
            "missing: plugin_checksum is set, so Boundary needs plugin_path too".into(),
        ),
        (true, true) => cx.warn(
            b,
            Some(PLUGIN_PATH),
            "Boundary would run this external plugin; kms uses its built-in backend for the type"
                .into(),
        ),
        (false, false) => {}
    }
    (cx.errors.len() == before).then_some(parsed)
}

/// The settings of a block with a purpose, against its backend's schema: unknown settings
/// are warned about, `env://` / `file://` resolved where go-kms-wrapping resolves them, and
/// booleans read with Go's `strconv.ParseBool`. `None` for a setting that failed.
fn read_attrs<'p>(
    cx: &mut Ctx<'_>,
    b: &RawBlock,
    parsed: &'p Parsed<'_>,
    schema: &Schema,
) -> HashMap<&'p str, Option<String>> {
    let mut vals = HashMap::new();
    for (key, text, raw) in &parsed.texts {
        let Some(spec) = schema.attribute(key) else {
            let names = schema.attributes.iter().map(|a| a.name).chain([PURPOSE]);
            let s = suggest(key, names);
            cx.warn(
                b,
                Some(key),
                format!(
                    "is not a setting of kms \"{}\"; Boundary ignores it{}",
                    schema.kind,
                    did_you_mean(s)
                ),
            );
            continue;
        };
        let value = if spec.indirect {
            match resolve_path(cx.opts, text) {
                Ok(v) => {
                    if v != *text && v.ends_with(['\n', '\r', ' ', '\t']) {
                        cx.warn(b, Some(key), "its value (from env:// or file://) ends with white space, often a new line, which go-kms-wrapping keeps as part of the value".into());
                    }
                    Some(v)
                }
                Err(m) => {
                    cx.err(b, Some(key), m);
                    None
                }
            }
        } else {
            if let Some(w) = literal_url_warning(text, schema) {
                cx.warn(b, Some(key), w);
            }
            Some(text.clone())
        };
        let value = match (spec.ty, value) {
            (ValueType::Bool, Some(v)) if parse_bool(&v).is_none() => {
                cx.err(
                    b,
                    Some(key),
                    format!("must be true or false, not {}", described(Some(spec), raw)),
                );
                None
            }
            (ValueType::Text, v) => {
                if let Val::Bool(t) = raw {
                    cx.warn(
                        b,
                        Some(key),
                        format!(
                            "is the bool {t}, which Boundary reads as the text {:?}",
                            text
                        ),
                    );
                }
                v
            }
            (_, v) => v,
        };
        vals.insert(*key, value);
    }
    vals
}

fn typed(attr: &Attribute, text: String) -> Value {
    match attr.ty {
        ValueType::Bool => Value::Bool(parse_bool(&text).unwrap_or(false)),
        ValueType::Text if attr.secret => Value::Secret(SecretString::new(text)),
        ValueType::Text => Value::Text(text),
    }
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
    attr.env
        .iter()
        .find_map(|&n| Some((typed(attr, opts.var(n)?), Source::Env(n))))
}

/// Builds the stanza: each attribute's value from the block or the environment, by the
/// schema's precedence. An empty value counts as unset when a variable can stand in for it.
fn build_stanza(
    cx: &mut Ctx<'_>,
    b: &RawBlock,
    vals: &HashMap<&str, Option<String>>,
    schema: &Schema,
) -> Stanza {
    let mut stanza = Stanza::new(schema.kind.clone());
    let own = |attr: &Attribute| -> Option<Value> {
        vals.get(attr.name)?.clone().map(|t| typed(attr, t))
    };
    let env_off = schema
        .env_switch
        .is_some_and(|sw| schema.attribute(sw).and_then(own) == Some(Value::Bool(true)));
    for attr in schema.attributes {
        let env = || {
            if env_off {
                None
            } else {
                from_env(cx.opts, attr)
            }
        };
        let mine = own(attr)
            .filter(|v| !is_empty(v) || attr.env.is_empty())
            .map(|v| (v, Source::Stanza));
        let chosen = match attr.precedence {
            EnvPrecedence::EnvFirst => env().or(mine),
            EnvPrecedence::StanzaFirst => mine.or_else(env),
        };
        let failed = matches!(vals.get(attr.name), Some(None));
        if failed {
            stanza.mark_unusable(attr.name);
        } else if vals.contains_key(attr.name) {
            stanza.mark_given(attr.name);
        }
        match chosen {
            Some((value, source)) => stanza.set(attr.name, value, source),
            None if attr.required && !failed => {
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

fn sorted(mut v: Vec<Placed>) -> Vec<ConfigError> {
    // In file order: by block, then by attribute; otherwise in the order found.
    v.sort_by_key(|(at, e)| (e.line, *at));
    v.into_iter().map(|(_, e)| e).collect()
}

/// Which blocks are set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Every block with a purpose (`SetupKMSes`).
    All,
    /// Only a block marked for `config` (`GetWrapperFromHcl`); no warnings.
    ConfigOnly,
}

pub(crate) fn resolve(
    blocks: Vec<RawBlock>,
    problems: Vec<ConfigError>,
    file: &str,
    opts: &LoadOptions,
    scope: Scope,
) -> Result<KmsConfig, ConfigErrors> {
    let mut cx = Ctx {
        file,
        opts,
        errors: problems.into_iter().map(|e| ((0, 0), e)).collect(),
        warnings: Vec::new(),
        block: 0,
    };
    let mut setup = setup::Setup::default();
    for (i, b) in blocks.iter().enumerate() {
        cx.block = i;
        for (key, msg) in &b.problems {
            cx.err(b, key.as_deref(), msg.clone());
        }
        for w in &b.warnings {
            cx.warn(b, None, w.clone());
        }
        let Some(mut parsed) = parse_block(&mut cx, b) else {
            continue;
        };
        if scope == Scope::ConfigOnly {
            if !parsed.purposes.iter().any(|p| p == "config") {
                continue;
            }
            parsed.purposes.retain(|p| p == "config");
        }
        if parsed.purposes.is_empty() {
            cx.warn(b, Some(PURPOSE), "no purpose: Boundary ignores this block (add purpose = \"root\" or another purpose to use it)".into());
            continue;
        }
        if b.block != "kms" {
            cx.warn(
                b,
                None,
                format!("Boundary reads a {} block as a kms block", b.block),
            );
        }
        if parsed.disabled {
            cx.warn(b, Some(DISABLED), "Boundary does not act on disabled: this block is set up for its purposes all the same".into());
        }
        setup.block(&mut cx, b, &parsed);
    }
    cx.block = usize::MAX;
    let wrappers = setup.finish(&mut cx);
    if scope == Scope::ConfigOnly {
        cx.warnings.clear();
    }
    if wrappers.is_empty() && cx.errors.is_empty() && scope == Scope::All {
        let w = cx.problem(
            0,
            None,
            None,
            None,
            "no kms block with a purpose: Boundary sets up no KMS from this file".into(),
        );
        cx.warnings.push(w);
    }
    let errors = sorted(cx.errors);
    if errors.is_empty() {
        Ok(KmsConfig {
            source: file.to_owned(),
            wrappers,
            warnings: sorted(cx.warnings),
        })
    } else {
        Err(ConfigErrors(errors))
    }
}

/// The known types, for the "unknown kms type" message.
fn known_kinds(opts: &LoadOptions) -> Vec<&str> {
    opts.backends
        .iter()
        .map(|f| f.schema().kind.as_str())
        .collect()
}

fn unknown_type(cx: &mut Ctx<'_>, b: &RawBlock) {
    let known = known_kinds(cx.opts);
    let s = suggest(&b.kind, known.iter().copied());
    let hint = if b.kind == b.block {
        format!(
            " (a {0} block needs its type as a label, e.g. {0} \"TYPE\" {{ ... }})",
            b.block
        )
    } else {
        String::new()
    };
    let m = format!(
        "unknown kms type {}{} (types compiled in: {}){hint}",
        shown(&b.kind),
        did_you_mean(s),
        known.join(", ")
    );
    cx.err(b, None, m);
}
