//! What a backend declares about its `kms "TYPE"` stanza, in one place ([`BackendFactory`]):
//! the kind, the attribute schema kms-config reads the stanza with, the checks only the
//! backend knows, what `kms check` prints, and how to build the backend.
//!
//! kms-config knows no backend: it reads a block with the [`Schema`] of its kind, resolves
//! environment fallbacks and `env://` / `file://` values into a [`Stanza`], and asks the
//! factory to [`check`](BackendFactory::check) it. The facade keeps the registry of the
//! factories compiled in. This module is pure data: no I/O.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::{Backend, BackendKind, Result, SecretString};

/// The type of an attribute's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    /// A string; a number is taken as its text, as Boundary does.
    Text,
    /// A bool, or a string Go's `strconv.ParseBool` takes.
    Bool,
}

/// Whether the environment or the stanza wins when both give a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvPrecedence {
    /// The first set variable of [`Attribute::env`] wins over the stanza.
    EnvFirst,
    /// The stanza wins; the variables are a fallback for an absent or empty value.
    StanzaFirst,
}

/// One attribute of a stanza.
#[derive(Clone, Copy, Debug)]
pub struct Attribute {
    /// Its name, as written in the stanza.
    pub name: &'static str,
    /// Its value type.
    pub ty: ValueType,
    /// Whether a stanza without it (after environment fallbacks) is an error.
    pub required: bool,
    /// Whether its value is secret: kept in a [`SecretString`], never shown in a message.
    pub secret: bool,
    /// Whether `env://NAME` and `file://PATH` values are resolved.
    pub indirect: bool,
    /// Environment variables that give it, in order.
    pub env: &'static [&'static str],
    /// Who wins between [`Attribute::env`] and the stanza.
    pub precedence: EnvPrecedence,
    /// For a required attribute, what the "missing" message says, e.g. `an X stanza needs
    /// key = ...`; `None` gives a generic message.
    pub hint: Option<&'static str>,
}

impl Attribute {
    /// An optional text attribute, with no environment fallback.
    pub const fn text(name: &'static str) -> Self {
        Attribute {
            name,
            ty: ValueType::Text,
            required: false,
            secret: false,
            indirect: false,
            env: &[],
            precedence: EnvPrecedence::StanzaFirst,
            hint: None,
        }
    }

    /// An optional boolean attribute.
    pub const fn boolean(name: &'static str) -> Self {
        Attribute {
            ty: ValueType::Bool,
            ..Attribute::text(name)
        }
    }

    /// This attribute, required.
    pub const fn required(self) -> Self {
        Attribute {
            required: true,
            ..self
        }
    }

    /// This attribute, required, with what the "missing" message says.
    pub const fn required_because(self, hint: &'static str) -> Self {
        Attribute {
            required: true,
            hint: Some(hint),
            ..self
        }
    }

    /// This attribute, secret.
    pub const fn secret(self) -> Self {
        Attribute {
            secret: true,
            ..self
        }
    }

    /// This attribute, resolving `env://` and `file://` values.
    pub const fn indirect(self) -> Self {
        Attribute {
            indirect: true,
            ..self
        }
    }

    /// This attribute, given by the first set variable of `vars` before the stanza.
    pub const fn env_first(self, vars: &'static [&'static str]) -> Self {
        Attribute {
            env: vars,
            precedence: EnvPrecedence::EnvFirst,
            ..self
        }
    }

    /// This attribute, given by the first set variable of `vars` when the stanza has none.
    pub const fn env_fallback(self, vars: &'static [&'static str]) -> Self {
        Attribute {
            env: vars,
            precedence: EnvPrecedence::StanzaFirst,
            ..self
        }
    }
}

/// A stanza's schema: what kms-config needs to read a `kms "KIND"` block.
///
/// `purpose` and `disabled` belong to every stanza and are not listed.
#[derive(Debug)]
pub struct Schema {
    /// The kind, as in `kms "KIND"`.
    pub kind: BackendKind,
    /// The attributes, in documentation order.
    pub attributes: &'static [Attribute],
    /// A boolean attribute that, when true, turns every environment fallback off.
    pub env_switch: Option<&'static str>,
}

impl Schema {
    /// The attribute named `name`.
    pub fn attribute(&self, name: &str) -> Option<&'static Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

/// Where a resolved value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The stanza itself (possibly through `env://` or `file://`).
    Stanza,
    /// An environment variable, by name.
    Env(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Stanza => f.write_str("stanza"),
            Source::Env(v) => write!(f, "env {v}"),
        }
    }
}

/// A resolved value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A text value (a number is kept as its text).
    Text(String),
    /// A secret text value.
    Secret(SecretString),
    /// A boolean.
    Bool(bool),
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    /// The value.
    pub value: T,
    /// Its source.
    pub source: Source,
}

/// A resolved value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The value.
    pub value: Value,
    /// Its source.
    pub source: Source,
}

/// A `kms` block read with its [`Schema`]: every attribute that has a value, from the stanza
/// or the environment, with its source. Secrets stay in [`SecretString`]s; `Debug` redacts them.
#[derive(Debug, Clone)]
pub struct Stanza {
    kind: BackendKind,
    settings: BTreeMap<&'static str, Setting>,
    given: BTreeSet<&'static str>,
    unusable: BTreeSet<&'static str>,
}

impl Stanza {
    /// An empty stanza of `kind`.
    pub fn new(kind: BackendKind) -> Self {
        Stanza {
            kind,
            settings: BTreeMap::new(),
            given: BTreeSet::new(),
            unusable: BTreeSet::new(),
        }
    }

    /// Sets `name` (builder form, for tests and programmatic configs).
    #[must_use]
    pub fn with(mut self, name: &'static str, value: Value, source: Source) -> Self {
        self.set(name, value, source);
        self
    }

    /// Sets `name`. A value from the stanza also marks it [given](Stanza::given).
    pub fn set(&mut self, name: &'static str, value: Value, source: Source) {
        if source == Source::Stanza {
            self.given.insert(name);
        }
        self.settings.insert(name, Setting { value, source });
    }

    /// Records that the block wrote `name`, even if its value was empty or unusable.
    pub fn mark_given(&mut self, name: &'static str) {
        self.given.insert(name);
    }

    /// Records that the block wrote `name` with a value that could not be used (a type
    /// error, an unset `env://` variable); the problem was reported already, so checks
    /// should not also call it missing.
    pub fn mark_unusable(&mut self, name: &'static str) {
        self.given.insert(name);
        self.unusable.insert(name);
    }

    /// Whether `name` was written with an unusable value (see [`Stanza::mark_unusable`]).
    pub fn unusable(&self, name: &str) -> bool {
        self.unusable.contains(name)
    }

    /// The kind.
    pub fn kind(&self) -> &BackendKind {
        &self.kind
    }

    /// The setting of `name`, if it has a value.
    pub fn get(&self, name: &str) -> Option<&Setting> {
        self.settings.get(name)
    }

    /// Every setting with a value, by name (for `kms check --json`; secrets stay
    /// [`Value::Secret`]).
    pub fn settings(&self) -> impl Iterator<Item = (&'static str, &Setting)> {
        self.settings.iter().map(|(k, v)| (*k, v))
    }

    /// Whether the block itself wrote `name` (even empty, or with an unusable value).
    pub fn given(&self, name: &str) -> bool {
        self.given.contains(name)
    }

    /// A text (or secret) value, if set.
    pub fn text(&self, name: &str) -> Option<&str> {
        match &self.get(name)?.value {
            Value::Text(s) => Some(s),
            Value::Secret(s) => Some(s.expose_secret()),
            Value::Bool(_) => None,
        }
    }

    /// A text (or secret) value, if set and not empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.text(name).filter(|s| !s.is_empty())
    }

    /// A text value with its source, if set.
    pub fn sourced(&self, name: &str) -> Option<(&str, Source)> {
        let s = self.get(name)?;
        Some((self.text(name)?, s.source))
    }

    /// A secret value, if set.
    pub fn secret(&self, name: &str) -> Option<&SecretString> {
        match &self.get(name)?.value {
            Value::Secret(s) => Some(s),
            _ => None,
        }
    }

    /// A boolean value; `false` when unset.
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.get(name).map(|s| &s.value), Some(Value::Bool(true)))
    }
}

/// Where the userinfo (`user:password@`, with its `@`) of a URL is, if it has one.
pub fn userinfo_range(url: &str) -> Option<std::ops::Range<usize>> {
    let start = url.find("://")? + 3;
    let authority_len = url[start..]
        .find(['/', '?', '#'])
        .unwrap_or(url.len() - start);
    let at = url[start..start + authority_len].rfind('@')?;
    Some(start..start + at + 1)
}

/// `url` with any userinfo (`http://user:password@host`) shown as `REDACTED@`: how a
/// setting that may be a URL (an endpoint) is shown in messages, `kms check` and logs.
pub fn redact_userinfo(url: &str) -> String {
    match userinfo_range(url) {
        Some(r) => format!("{}REDACTED@{}", &url[..r.start], &url[r.end..]),
        None => url.to_owned(),
    }
}

/// A problem a backend finds in a stanza: which attribute, and what is wrong (never a
/// secret value). A warning is something Boundary accepts (and perhaps ignores) that the
/// operator should know; an error is something Boundary refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The attribute, or `None` for the block as a whole.
    pub attribute: Option<&'static str>,
    /// What is wrong.
    pub message: String,
    /// Boundary accepts it: say so, and go on.
    pub warning: bool,
}

impl Problem {
    /// An error with `attribute`: Boundary refuses the config.
    pub fn at(attribute: &'static str, message: impl Into<String>) -> Self {
        Problem {
            attribute: Some(attribute),
            message: message.into(),
            warning: false,
        }
    }

    /// A warning about `attribute`: Boundary accepts the config, but does something the
    /// operator may not expect.
    pub fn warn(attribute: &'static str, message: impl Into<String>) -> Self {
        Problem {
            warning: true,
            ..Problem::at(attribute, message)
        }
    }

    /// One config error for a backend's problems, `attribute: message` joined by `; `.
    pub fn into_config_error(problems: Vec<Problem>) -> crate::Error {
        let text: Vec<String> = problems
            .into_iter()
            .map(|p| match p.attribute {
                Some(a) => format!("{a}: {}", p.message),
                None => p.message,
            })
            .collect();
        crate::Error::Config(text.join("; "))
    }
}

/// A key's identity as a config names it, for the check that root and previous-root name
/// different keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyIdentity {
    /// The identifying value (an aead `key_id`, a KMS key id).
    pub id: String,
    /// Where it came from, for the message: e.g. `kms_key_id, from env AWSKMS_WRAPPER_KEY_ID`.
    pub from: String,
    /// The attribute a problem with it is reported at.
    pub attribute: &'static str,
}

/// Everything about one backend kind, declared by its crate in one place.
///
/// The facade registers one `&'static dyn BackendFactory` per compiled-in backend; kms-config
/// reads stanzas through it without knowing any backend. See docs/ADDING_A_BACKEND.md.
#[async_trait]
pub trait BackendFactory: Send + Sync + fmt::Debug {
    /// The stanza schema; its `kind` names the backend.
    fn schema(&self) -> &'static Schema;

    /// Checks only this backend can make (a key's encoding, attributes that go together),
    /// offline. `stanza` already has its environment fallbacks and `env://` / `file://`
    /// values resolved, and required attributes are checked by kms-config.
    fn check(&self, stanza: &Stanza) -> Vec<Problem> {
        let _ = stanza;
        Vec::new()
    }

    /// The key's identity, for the root / previous-root check. Defaults to none.
    fn key_identity(&self, stanza: &Stanza) -> Option<KeyIdentity> {
        let _ = stanza;
        None
    }

    /// Whether two stanzas of this kind hold the same secret key material (compared without
    /// showing it): the attribute that holds it, or `None` when they differ or the backend
    /// holds no key material. Defaults to `None`.
    fn same_key_material(&self, a: &Stanza, b: &Stanza) -> Option<&'static str> {
        let _ = (a, b);
        None
    }

    /// What `kms check` prints after the purpose and kind, e.g. `key_id=global_root`, or for
    /// AWS KMS the key, region, endpoint and credentials with their sources. Never a secret.
    fn describe(&self, stanza: &Stanza) -> String;

    /// Builds the backend. `eager`: it will encrypt, so connect and verify now; otherwise
    /// it only decrypts and may connect on first use.
    ///
    /// # Errors
    /// [`crate::Error::Config`] for settings the backend refuses; backend errors from
    /// connecting.
    async fn build(&self, stanza: &Stanza, eager: bool) -> Result<Arc<dyn Backend>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stanza_accessors_and_redaction() {
        let s = Stanza::new(BackendKind::from_static("x"))
            .with("a", Value::Text("v".into()), Source::Stanza)
            .with(
                "s",
                Value::Secret(SecretString::new("canary-secret".into())),
                Source::Env("S"),
            )
            .with("b", Value::Bool(true), Source::Stanza);
        assert_eq!(s.text("a"), Some("v"));
        assert_eq!(s.sourced("s"), Some(("canary-secret", Source::Env("S"))));
        assert!(s.flag("b") && !s.flag("a") && !s.flag("none"));
        assert!(s.given("a") && !s.given("s"));
        let names: Vec<&str> = s.settings().map(|(n, _)| n).collect();
        assert_eq!(names, ["a", "b", "s"]);
        assert!(!format!("{s:?}").contains("canary"));
    }

    #[test]
    fn userinfo_is_redacted() {
        assert_eq!(
            redact_userinfo("http://u:pw@host:9/p@q"),
            "http://REDACTED@host:9/p@q"
        );
        assert_eq!(redact_userinfo("https://host/a@b"), "https://host/a@b");
        assert_eq!(redact_userinfo("not a url"), "not a url");
    }

    #[test]
    fn attribute_builders() {
        let a = Attribute::text("k")
            .secret()
            .required()
            .indirect()
            .env_first(&["K"]);
        assert!(a.secret && a.required && a.indirect && a.hint.is_none());
        assert_eq!(a.precedence, EnvPrecedence::EnvFirst);
        assert_eq!(
            Attribute::text("k").required_because("why").hint,
            Some("why")
        );
        assert_eq!(a.ty, ValueType::Text);
        assert_eq!(a.ty, ValueType::Text);
        assert_eq!(Attribute::boolean("b").ty, ValueType::Bool);
    }
}
