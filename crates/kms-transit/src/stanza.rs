//! The `kms "transit"` stanza: its schema with go-kms-wrapping's (hashicorp v2) environment
//! precedence, its checks, what `kms check` prints, and how the backend is built. The
//! registry entry is [`FACTORY`].

use std::sync::Arc;

use async_trait::async_trait;
use kms_core::stanza::{
    redact_userinfo, Attribute, BackendFactory, KeyIdentity, Problem, Schema, Source, Stanza,
};
use kms_core::{Backend, Error, Result, SecretString};

use crate::options::{shown_pem, Origin, TlsOptions, TransitOptions, DEFAULT_ADDRESS};
use crate::{Transit, KIND};

const MOUNT_PATH_VARS: &[&str] = &[
    "TRANSIT_WRAPPER_MOUNT_PATH",
    "VAULT_TRANSIT_SEAL_MOUNT_PATH",
];
const KEY_NAME_VARS: &[&str] = &["TRANSIT_WRAPPER_KEY_NAME", "VAULT_TRANSIT_SEAL_KEY_NAME"];
const DISABLE_RENEWAL_VARS: &[&str] = &[
    "TRANSIT_WRAPPER_DISABLE_RENEWAL",
    "VAULT_TRANSIT_SEAL_DISABLE_RENEWAL",
];

/// The TLS settings; if the stanza has any of them, the `VAULT_*` TLS variables are ignored.
const TLS_ATTRIBUTES: &[&str] = &[
    "tls_ca_cert",
    "tls_ca_path",
    "tls_client_cert",
    "tls_client_key",
    "tls_server_name",
    "tls_skip_verify",
];

/// `kms "transit"`, with go-kms-wrapping's precedence: the `TRANSIT_WRAPPER_*` then
/// `VAULT_TRANSIT_SEAL_*` variables before the stanza for mount_path, key_name and
/// disable_renewal, `VAULT_NAMESPACE` before the stanza, the stanza before `VAULT_ADDR` and
/// `VAULT_TOKEN`, and the `VAULT_*` TLS variables only when the stanza has no `tls_*`.
pub static SCHEMA: Schema = Schema {
    kind: KIND,
    attributes: &[
        Attribute::text("address").env_fallback(&["VAULT_ADDR"]),
        Attribute::text("token")
            .secret()
            .indirect()
            .env_fallback(&["VAULT_TOKEN"]),
        Attribute::text("key_name")
            .required_because(
                "a transit stanza needs key_name = \"KEY\" (or TRANSIT_WRAPPER_KEY_NAME)",
            )
            .env_first(KEY_NAME_VARS),
        Attribute::text("mount_path")
            .required_because(
                "a transit stanza needs mount_path = \"transit/\" (or TRANSIT_WRAPPER_MOUNT_PATH)",
            )
            .env_first(MOUNT_PATH_VARS),
        Attribute::text("namespace").env_first(&["VAULT_NAMESPACE"]),
        Attribute::boolean("disable_renewal").env_first(DISABLE_RENEWAL_VARS),
        Attribute::text("key_id_prefix"),
        // Boundary hands every wrapper its block's `key_id`; the transit wrapper ignores it.
        Attribute::text("key_id"),
        Attribute::text("tls_ca_cert")
            .indirect()
            .env_fallback(&["VAULT_CACERT"]),
        Attribute::text("tls_ca_path")
            .indirect()
            .env_fallback(&["VAULT_CAPATH"]),
        Attribute::text("tls_client_cert")
            .indirect()
            .env_fallback(&["VAULT_CLIENT_CERT"]),
        Attribute::text("tls_client_key")
            .secret()
            .indirect()
            .env_fallback(&["VAULT_CLIENT_KEY"]),
        Attribute::text("tls_server_name").env_fallback(&["VAULT_TLS_SERVER_NAME"]),
        Attribute::boolean("tls_skip_verify").env_fallback(&["VAULT_SKIP_VERIFY"]),
    ],
    env_switch: None,
};

/// The transit backend's registry entry.
pub static FACTORY: TransitFactory = TransitFactory;

/// Reads `kms "transit"` stanzas and builds [`Transit`] wrappers.
#[derive(Debug)]
pub struct TransitFactory;

fn text(stanza: &Stanza, name: &str) -> Option<Origin<String>> {
    let (value, source) = stanza.sourced(name)?;
    (!value.is_empty()).then(|| Origin::from(value.to_owned(), source))
}

fn secret(stanza: &Stanza, name: &str) -> Option<Origin<SecretString>> {
    let setting = stanza.get(name)?;
    let s = stanza.secret(name)?;
    (!s.expose_secret().is_empty()).then(|| Origin::from(s.clone(), setting.source))
}

fn flag(stanza: &Stanza, name: &str) -> Option<Origin<bool>> {
    let setting = stanza.get(name)?;
    Some(Origin::from(stanza.flag(name), setting.source))
}

/// Whether the block itself has a TLS setting that go-kms-wrapping counts (a non-empty text,
/// or `tls_skip_verify = true`).
fn stanza_has_tls(stanza: &Stanza) -> bool {
    TLS_ATTRIBUTES.iter().any(|name| {
        stanza.get(name).is_some_and(|s| {
            s.source == Source::Stanza
                && match &s.value {
                    kms_core::stanza::Value::Bool(b) => *b,
                    _ => stanza.non_empty(name).is_some(),
                }
        })
    })
}

fn tls_options(stanza: &Stanza) -> TlsOptions {
    let from_stanza = stanza_has_tls(stanza);
    // All from the stanza, or all from the environment: never mixed.
    let keep = |source: Option<Source>| (source == Some(Source::Stanza)) == from_stanza;
    TlsOptions {
        ca_cert: text(stanza, "tls_ca_cert").filter(|o| keep(o.source)),
        ca_path: text(stanza, "tls_ca_path").filter(|o| keep(o.source)),
        client_cert: text(stanza, "tls_client_cert").filter(|o| keep(o.source)),
        client_key: secret(stanza, "tls_client_key").filter(|o| keep(o.source)),
        server_name: text(stanza, "tls_server_name").filter(|o| keep(o.source)),
        skip_verify: flag(stanza, "tls_skip_verify").filter(|o| keep(o.source)),
    }
}

/// Reads a resolved stanza into [`TransitOptions`].
///
/// # Errors
/// Every problem found, each naming its attribute; never showing the token.
pub fn options_from_stanza(stanza: &Stanza) -> std::result::Result<TransitOptions, Vec<Problem>> {
    let mut problems = Vec::new();
    let address = text(stanza, "address")
        .unwrap_or_else(|| Origin::default_value(DEFAULT_ADDRESS.to_owned()));
    if !(address.value.starts_with("http://") || address.value.starts_with("https://")) {
        problems.push(Problem::at(
            "address",
            format!(
                "{:?} (from {}) must start with http:// or https://",
                redact_userinfo(&address.value),
                address.source_label()
            ),
        ));
    }
    let mount_path = text(stanza, "mount_path");
    let key_name = text(stanza, "key_name");
    if let Some(k) = &key_name {
        if k.value.contains('/') {
            problems.push(Problem::at(
                "key_name",
                format!("{:?} must not contain '/'", k.value),
            ));
        }
    }
    let tls = tls_options(stanza);
    if tls.client_cert.is_some() != tls.client_key.is_some() {
        let (attr, has, needs) = if tls.client_cert.is_some() {
            ("tls_client_key", "tls_client_cert", "tls_client_key")
        } else {
            ("tls_client_cert", "tls_client_key", "tls_client_cert")
        };
        if !stanza.unusable(attr) {
            problems.push(Problem::at(
                attr,
                format!("missing: {has} is set, so a client certificate needs {needs} too"),
            ));
        }
    }
    let (Some(mount_path), Some(key_name)) = (mount_path, key_name) else {
        // kms-config reports a missing required attribute (so this may return no problem);
        // an empty one is reported here.
        for name in ["mount_path", "key_name"] {
            if stanza.get(name).is_some() && text(stanza, name).is_none() {
                problems.push(Problem::at(name, "is empty; it is required"));
            }
        }
        return Err(problems);
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut opts = TransitOptions::new(address.value.clone(), None, "", "");
    opts.address = address;
    opts.token = secret(stanza, "token");
    opts.mount_path = mount_path;
    opts.key_name = key_name;
    opts.namespace = text(stanza, "namespace");
    opts.disable_renewal =
        flag(stanza, "disable_renewal").unwrap_or_else(|| Origin::default_value(false));
    opts.key_id_prefix = stanza.text("key_id_prefix").unwrap_or_default().to_owned();
    opts.boundary_key_id = stanza.non_empty("key_id").map(str::to_owned);
    opts.tls = tls;
    Ok(opts)
}

/// What `kms check` prints: each setting with its source; the token only as set or not,
/// with its source.
pub fn describe_options(o: &TransitOptions) -> String {
    let mut out = format!(
        "key_id={} address={} [{}] mount_path={} [{}] key_name={} [{}]",
        o.boundary_key_id.as_deref().unwrap_or("(empty)"),
        redact_userinfo(&o.address.value),
        o.address.source_label(),
        o.mount_path.value,
        o.mount_path.source_label(),
        o.key_name.value,
        o.key_name.source_label(),
    );
    match &o.namespace {
        Some(n) => out.push_str(&format!(" namespace={} [{}]", n.value, n.source_label())),
        None => out.push_str(" namespace=(none)"),
    }
    match &o.token {
        Some(t) => out.push_str(&format!(" token=(set) [{}]", t.source_label())),
        None => out.push_str(" token=(none)"),
    }
    out.push_str(&format!(
        " disable_renewal={} [{}]",
        o.disable_renewal.value,
        o.disable_renewal.source_label()
    ));
    if !o.key_id_prefix.is_empty() {
        out.push_str(&format!(" key_id_prefix={:?} [stanza]", o.key_id_prefix));
    }
    let t = &o.tls;
    let mut tls = Vec::new();
    if let Some(c) = &t.ca_cert {
        tls.push(format!(
            "ca_cert={} [{}]",
            shown_pem(&c.value),
            c.source_label()
        ));
    }
    if let Some(c) = &t.ca_path {
        tls.push(format!("ca_path={} [{}]", c.value, c.source_label()));
    }
    if let Some(c) = &t.client_cert {
        tls.push(format!(
            "client_cert={} [{}]",
            shown_pem(&c.value),
            c.source_label()
        ));
    }
    if let Some(c) = &t.client_key {
        tls.push(format!("client_key=(set) [{}]", c.source_label()));
    }
    if let Some(c) = &t.server_name {
        tls.push(format!("server_name={} [{}]", c.value, c.source_label()));
    }
    if let Some(c) = t.skip_verify.as_ref().filter(|s| s.value) {
        tls.push(format!("skip_verify=true [{}]", c.source_label()));
    }
    if !tls.is_empty() {
        out.push_str(&format!(" tls: {}", tls.join(" ")));
    }
    out
}

/// What Boundary accepts but an operator should hear about.
fn warnings(opts: &TransitOptions) -> Vec<Problem> {
    let mut out = Vec::new();
    if opts.token.is_none() {
        out.push(Problem::warn(
            "token",
            "is not set and VAULT_TOKEN is empty: requests go without a token and the server will refuse them",
        ));
    }
    if opts.tls.skip_verify.as_ref().is_some_and(|s| s.value) {
        out.push(Problem::warn(
            "tls_skip_verify",
            "is true: the server's certificate is not verified",
        ));
    }
    if opts.address.value.starts_with("http://") && opts.tls.any() {
        out.push(Problem::warn(
            "address",
            "is http://, so the TLS settings have no effect",
        ));
    }
    out
}

fn config_error(problems: Vec<Problem>) -> Error {
    if problems.is_empty() {
        return Error::Config("mount_path and key_name are required".into());
    }
    Problem::into_config_error(problems)
}

#[async_trait]
impl BackendFactory for TransitFactory {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn check(&self, stanza: &Stanza) -> Vec<Problem> {
        match options_from_stanza(stanza) {
            Ok(o) => warnings(&o),
            Err(p) => p,
        }
    }

    /// The server, mount and key name: two stanzas naming the same ones are the same key.
    fn key_identity(&self, stanza: &Stanza) -> Option<KeyIdentity> {
        let o = options_from_stanza(stanza).ok()?;
        let ns = o
            .namespace
            .as_ref()
            .map(|n| format!("{}/", n.value.trim_matches('/')))
            .unwrap_or_default();
        Some(KeyIdentity {
            id: format!(
                "{} {ns}{}/keys/{}",
                o.address.value.trim_end_matches('/'),
                o.mount(),
                o.key_name.value
            ),
            from: format!(
                "address, namespace, mount_path and key_name (key_name from {})",
                o.key_name.source_label()
            ),
            attribute: "key_name",
        })
    }

    fn describe(&self, stanza: &Stanza) -> String {
        match options_from_stanza(stanza) {
            Ok(o) => describe_options(&o),
            Err(problems) => config_error(problems).to_string(),
        }
    }

    async fn build(&self, stanza: &Stanza, eager: bool) -> Result<Arc<dyn Backend>> {
        let opts = options_from_stanza(stanza).map_err(config_error)?;
        if eager {
            Ok(Arc::new(Transit::connect(opts).await?))
        } else {
            Ok(Arc::new(Transit::connect_lazy(opts)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use kms_core::stanza::Value;

    use super::*;

    fn base() -> Stanza {
        Stanza::new(KIND)
            .with("mount_path", Value::Text("transit/".into()), Source::Stanza)
            .with("key_name", Value::Text("k1".into()), Source::Stanza)
            .with(
                "token",
                Value::Secret(SecretString::new("canary-token-123".into())),
                Source::Env("VAULT_TOKEN"),
            )
    }

    #[test]
    fn the_token_is_never_shown() {
        let o = options_from_stanza(&base()).unwrap();
        assert!(!format!("{o:?}").contains("canary"));
        let d = describe_options(&o);
        assert!(!d.contains("canary"), "{d}");
        assert!(d.contains("token=(set) [env VAULT_TOKEN]"), "{d}");
        assert!(
            d.contains("address=https://127.0.0.1:8200 [default]"),
            "{d}"
        );
        assert_eq!(o.token_source(), "token from env VAULT_TOKEN");
    }

    #[test]
    fn tls_settings_come_all_from_the_stanza_or_all_from_the_environment() {
        let env_only = base()
            .with(
                "tls_ca_cert",
                Value::Text("/env/ca.pem".into()),
                Source::Env("VAULT_CACERT"),
            )
            .with(
                "tls_skip_verify",
                Value::Bool(true),
                Source::Env("VAULT_SKIP_VERIFY"),
            );
        let o = options_from_stanza(&env_only).unwrap();
        assert_eq!(o.tls.ca_cert.unwrap().value, "/env/ca.pem");
        assert!(o.tls.skip_verify.unwrap().value);
        // One tls_* in the stanza: the variables are ignored, all of them.
        let mixed = env_only.with(
            "tls_server_name",
            Value::Text("vault.example".into()),
            Source::Stanza,
        );
        let o = options_from_stanza(&mixed).unwrap();
        assert!(o.tls.ca_cert.is_none() && o.tls.skip_verify.is_none());
        assert_eq!(o.tls.server_name.unwrap().value, "vault.example");
        // tls_skip_verify = false in the stanza does not count as a TLS setting.
        let off = base()
            .with("tls_skip_verify", Value::Bool(false), Source::Stanza)
            .with(
                "tls_ca_cert",
                Value::Text("/env/ca.pem".into()),
                Source::Env("VAULT_CACERT"),
            );
        assert!(options_from_stanza(&off).unwrap().tls.ca_cert.is_some());
    }

    #[test]
    fn problems_name_their_attribute() {
        let half = base().with(
            "tls_client_cert",
            Value::Text("/c.pem".into()),
            Source::Stanza,
        );
        let p = options_from_stanza(&half).unwrap_err();
        assert_eq!(p[0].attribute, Some("tls_client_key"));
        let bad = base().with("address", Value::Text("vault:8200".into()), Source::Stanza);
        assert_eq!(
            options_from_stanza(&bad).unwrap_err()[0].attribute,
            Some("address")
        );
        let slash = Stanza::new(KIND)
            .with("mount_path", Value::Text("transit/".into()), Source::Stanza)
            .with("key_name", Value::Text("a/b".into()), Source::Stanza);
        assert_eq!(
            options_from_stanza(&slash).unwrap_err()[0].attribute,
            Some("key_name")
        );
    }

    #[test]
    fn the_same_key_is_the_same_identity() {
        let a = FACTORY.key_identity(&base()).unwrap();
        let b = FACTORY
            .key_identity(&base().with(
                "mount_path",
                Value::Text("/transit".into()),
                Source::Stanza,
            ))
            .unwrap();
        assert_eq!(a.id, b.id);
        let c = FACTORY
            .key_identity(&base().with("key_name", Value::Text("k2".into()), Source::Stanza))
            .unwrap();
        assert_ne!(a.id, c.id);
    }

    #[test]
    fn an_address_password_is_never_shown() {
        let o = TransitOptions::new("https://ops:AddrPassw0rd@vault:8200", None, "transit/", "k");
        let shown = describe_options(&o);
        assert!(!shown.contains("AddrPassw0rd"), "{shown}");
        assert!(shown.contains("https://REDACTED@vault:8200"), "{shown}");
        let bad = base().with(
            "address",
            Value::Text("ftp://ops:AddrPassw0rd@vault".into()),
            Source::Stanza,
        );
        let problems = FACTORY.check(&bad);
        assert!(!problems.is_empty());
        for p in problems {
            assert!(!p.message.contains("AddrPassw0rd"), "{}", p.message);
        }
    }
}
