//! The settings of a transit wrapper, typed, with where each came from.

use std::fmt;
use std::time::Duration;

use kms_core::stanza::Source;
use kms_core::SecretString;

/// The address the Go api client uses when neither the stanza nor `VAULT_ADDR` gives one.
pub const DEFAULT_ADDRESS: &str = "https://127.0.0.1:8200";

/// A value and where it came from; `None` as source means a built-in default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin<T> {
    /// The value.
    pub value: T,
    /// The stanza, a variable, or `None` for the default.
    pub source: Option<Source>,
}

impl<T> Origin<T> {
    /// A value from `source`.
    pub fn from(value: T, source: Source) -> Self {
        Origin {
            value,
            source: Some(source),
        }
    }

    /// A built-in default.
    pub fn default_value(value: T) -> Self {
        Origin {
            value,
            source: None,
        }
    }

    /// `stanza`, `env NAME` or `default`, for messages.
    pub fn source_label(&self) -> String {
        self.source
            .map_or_else(|| "default".to_owned(), |s| s.to_string())
    }
}

/// TLS settings: all from the stanza when it has any `tls_*`, else all from the `VAULT_*`
/// variables (go-kms-wrapping's rule). A CA or client certificate is PEM text or a path to a
/// PEM file (`file://` gives the text, `env://` usually a path).
#[derive(Clone, Default)]
pub struct TlsOptions {
    /// `tls_ca_cert` / `VAULT_CACERT`.
    pub ca_cert: Option<Origin<String>>,
    /// `tls_ca_path` / `VAULT_CAPATH`: a directory of PEM files.
    pub ca_path: Option<Origin<String>>,
    /// `tls_client_cert` / `VAULT_CLIENT_CERT`.
    pub client_cert: Option<Origin<String>>,
    /// `tls_client_key` / `VAULT_CLIENT_KEY`: secret when given as text.
    pub client_key: Option<Origin<SecretString>>,
    /// `tls_server_name` / `VAULT_TLS_SERVER_NAME`.
    pub server_name: Option<Origin<String>>,
    /// `tls_skip_verify` / `VAULT_SKIP_VERIFY`.
    pub skip_verify: Option<Origin<bool>>,
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsOptions")
            .field(
                "ca_cert",
                &self.ca_cert.as_ref().map(|o| shown_pem(&o.value)),
            )
            .field("ca_path", &self.ca_path)
            .field(
                "client_cert",
                &self.client_cert.as_ref().map(|o| shown_pem(&o.value)),
            )
            .field(
                "client_key",
                &self.client_key.as_ref().map(|_| "[REDACTED]"),
            )
            .field("server_name", &self.server_name)
            .field("skip_verify", &self.skip_verify)
            .finish()
    }
}

/// A PEM text or a path, as shown: the path, or `(PEM text)`.
pub(crate) fn shown_pem(v: &str) -> String {
    if is_pem(v) {
        "(PEM text)".to_owned()
    } else {
        v.to_owned()
    }
}

/// Whether a TLS setting holds PEM text rather than a path.
pub(crate) fn is_pem(v: &str) -> bool {
    v.trim_start().starts_with("-----BEGIN")
}

impl TlsOptions {
    /// Whether any TLS setting is present.
    pub fn any(&self) -> bool {
        self.ca_cert.is_some()
            || self.ca_path.is_some()
            || self.client_cert.is_some()
            || self.client_key.is_some()
            || self.server_name.is_some()
            || self.skip_verify.as_ref().is_some_and(|s| s.value)
    }
}

/// Timeouts and retries: the same bounds as kms-aws, so a dead server fails in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect (and TLS handshake) per attempt.
    pub connect: Duration,
    /// One attempt, request to full response.
    pub attempt: Duration,
    /// One operation, all attempts and back-off included.
    pub operation: Duration,
    /// Attempts per operation (retrying unreachable servers, timeouts, 5xx and 429).
    pub attempts: u32,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(3),
            attempt: Duration::from_secs(10),
            operation: Duration::from_secs(25),
            attempts: 3,
        }
    }
}

/// Everything a [`crate::Transit`] wrapper needs. `Debug` never shows the token.
#[derive(Clone)]
#[non_exhaustive]
pub struct TransitOptions {
    /// The server, `http://` or `https://`.
    pub address: Origin<String>,
    /// The client token; `None` sends none.
    pub token: Option<Origin<SecretString>>,
    /// The transit mount, e.g. `transit/`.
    pub mount_path: Origin<String>,
    /// The transit key.
    pub key_name: Origin<String>,
    /// The namespace (`X-Vault-Namespace`).
    pub namespace: Option<Origin<String>>,
    /// Skip the token renewal at start.
    pub disable_renewal: Origin<bool>,
    /// Put in front of `vN` in the reported key id.
    pub key_id_prefix: String,
    /// Boundary's `key_id` of the block (the wrapper's name in Boundary; not used here).
    pub boundary_key_id: Option<String>,
    /// TLS.
    pub tls: TlsOptions,
    /// Timeouts and retries.
    pub timeouts: Timeouts,
}

impl TransitOptions {
    /// Options for `address`, `mount_path` and `key_name` with a token; the rest default.
    pub fn new(
        address: impl Into<String>,
        token: Option<SecretString>,
        mount_path: impl Into<String>,
        key_name: impl Into<String>,
    ) -> Self {
        TransitOptions {
            address: Origin::from(address.into(), Source::Stanza),
            token: token.map(|t| Origin::from(t, Source::Stanza)),
            mount_path: Origin::from(mount_path.into(), Source::Stanza),
            key_name: Origin::from(key_name.into(), Source::Stanza),
            namespace: None,
            disable_renewal: Origin::default_value(false),
            key_id_prefix: String::new(),
            boundary_key_id: None,
            tls: TlsOptions::default(),
            timeouts: Timeouts::default(),
        }
    }

    /// Where the token came from, for messages: `token from stanza`, `token from env
    /// VAULT_TOKEN`, or `no token`.
    pub fn token_source(&self) -> String {
        match &self.token {
            Some(t) => format!("token from {}", t.source_label()),
            None => "no token (set token in the stanza or VAULT_TOKEN)".to_owned(),
        }
    }

    /// The mount without surrounding slashes.
    pub(crate) fn mount(&self) -> &str {
        self.mount_path.value.trim_matches('/')
    }
}

impl fmt::Debug for TransitOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransitOptions")
            .field("address", &self.address)
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .field("mount_path", &self.mount_path)
            .field("key_name", &self.key_name)
            .field("namespace", &self.namespace)
            .field("disable_renewal", &self.disable_renewal)
            .field("key_id_prefix", &self.key_id_prefix)
            .field("boundary_key_id", &self.boundary_key_id)
            .field("tls", &self.tls)
            .field("timeouts", &self.timeouts)
            .finish()
    }
}
