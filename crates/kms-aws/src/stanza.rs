//! The `kms "awskms"` stanza: its schema with go-kms-wrapping's environment fallbacks, its
//! checks, what `kms check` prints, and how the backend is built. The registry entry is
//! [`FACTORY`].

use std::sync::Arc;

use async_trait::async_trait;
use kms_core::stanza::{
    Attribute, BackendFactory, KeyIdentity, Problem, Schema, Source, Sourced, Stanza,
};
use kms_core::{Backend, Result, SecretString};

use crate::{AwsKms, AwsKmsOptions, KIND};

const KEY_ID_VARS: &[&str] = &["AWSKMS_WRAPPER_KEY_ID", "VAULT_AWSKMS_SEAL_KEY_ID"];
const ENDPOINT_VARS: &[&str] = &["AWSKMS_ENDPOINT", "AWS_KMS_ENDPOINT"];
const REGION_VARS: &[&str] = &["AWS_REGION", "AWS_DEFAULT_REGION"];

/// `kms "awskms"`, with go-kms-wrapping's environment precedence: the key id and endpoint
/// variables before the stanza, the region and credential variables after it, and none at
/// all with `disallow_env_vars = true`.
pub static SCHEMA: Schema = Schema {
    kind: KIND,
    attributes: &[
        Attribute::text("region").env_fallback(REGION_VARS),
        Attribute::text("access_key")
            .indirect()
            .env_fallback(&["AWS_ACCESS_KEY_ID"]),
        Attribute::text("secret_key")
            .secret()
            .indirect()
            .env_fallback(&["AWS_SECRET_ACCESS_KEY"]),
        Attribute::text("session_token")
            .secret()
            .indirect()
            .env_fallback(&["AWS_SESSION_TOKEN"]),
        Attribute::text("kms_key_id").env_first(KEY_ID_VARS),
        Attribute::text("endpoint").env_first(ENDPOINT_VARS),
        Attribute::text("key_id"),
        Attribute::text("shared_creds_filename"),
        Attribute::text("shared_creds_profile"),
        Attribute::text("role_arn"),
        Attribute::text("role_session_name"),
        Attribute::text("web_identity_token_file"),
        Attribute::boolean("disallow_env_vars"),
        Attribute::boolean("key_not_required"),
    ],
    env_switch: Some("disallow_env_vars"),
};

/// The awskms backend's registry entry.
pub static FACTORY: AwsKmsFactory = AwsKmsFactory;

/// Reads `kms "awskms"` stanzas and builds [`AwsKms`] wrappers.
#[derive(Debug)]
pub struct AwsKmsFactory;

/// A resolved `kms "awskms"` stanza. What stays `None` is left to the SDK's chains, then
/// the `us-east-1` default region.
#[derive(Debug, Clone, Default)]
pub struct AwsKmsConfig {
    /// The KMS key (id, ARN, alias name or alias ARN); `None` only with `key_not_required`.
    pub kms_key_id: Option<Sourced<String>>,
    /// The region.
    pub region: Option<Sourced<String>>,
    /// An endpoint override.
    pub endpoint: Option<Sourced<String>>,
    /// Static credentials.
    pub credentials: Option<StaticCredentials>,
    /// `shared_creds_filename`.
    pub shared_creds_filename: Option<String>,
    /// `shared_creds_profile`.
    pub shared_creds_profile: Option<String>,
    /// `role_arn`.
    pub role_arn: Option<String>,
    /// `role_session_name`.
    pub role_session_name: Option<String>,
    /// `web_identity_token_file`.
    pub web_identity_token_file: Option<String>,
    /// `disallow_env_vars`: the environment was ignored, and must be by the SDK too.
    pub disallow_env_vars: bool,
    /// `key_not_required`: a wrapper that only decrypts.
    pub key_not_required: bool,
    /// Boundary's `key_id` (the wrapper's name), when given.
    pub key_id: Option<String>,
}

/// Static AWS credentials. `Debug` leaves out the secret key and the session token.
#[derive(Clone)]
pub struct StaticCredentials {
    /// The access key id (not secret).
    pub access_key: String,
    /// The secret access key.
    pub secret_key: SecretString,
    /// The session token.
    pub session_token: Option<SecretString>,
    /// Where they came from.
    pub source: Source,
}

impl std::fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &"[REDACTED]")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("source", &self.source)
            .finish()
    }
}

fn sourced(stanza: &Stanza, name: &str) -> Option<Sourced<String>> {
    let (value, source) = stanza.sourced(name)?;
    (!value.is_empty()).then(|| Sourced {
        value: value.to_owned(),
        source,
    })
}

fn from_stanza_only(stanza: &Stanza, name: &str) -> Option<String> {
    sourced(stanza, name)
        .filter(|s| s.source == Source::Stanza)
        .map(|s| s.value)
}

fn secret_from(stanza: &Stanza, name: &str, source: Source) -> Option<SecretString> {
    stanza
        .get(name)
        .filter(|s| s.source == source)
        .and_then(|_| stanza.secret(name))
        .filter(|s| !s.expose_secret().is_empty())
        .cloned()
}

impl AwsKmsConfig {
    /// Reads a resolved stanza: the key id falls back to Boundary's `key_id`; static
    /// credentials come as a pair, from the stanza or else from the environment, never mixed.
    ///
    /// # Errors
    /// Every problem found, each naming its attribute; never showing a secret.
    pub fn from_stanza(stanza: &Stanza) -> std::result::Result<AwsKmsConfig, Vec<Problem>> {
        let mut problems = Vec::new();
        let disallow = stanza.flag("disallow_env_vars");
        let key_not_required = stanza.flag("key_not_required");
        let key_id_attr = from_stanza_only(stanza, "key_id");
        // go-kms-wrapping: the variables first, then kms_key_id when the block has it (even
        // empty), then key_id.
        let kms_key_id = match sourced(stanza, "kms_key_id") {
            Some(k) => Some(k),
            None if stanza.given("kms_key_id") => None,
            None => key_id_attr.clone().map(|value| Sourced {
                value,
                source: Source::Stanza,
            }),
        };
        if kms_key_id.is_none()
            && !key_not_required
            && !stanza.unusable("kms_key_id")
            && !stanza.unusable("key_id")
        {
            let env = if disallow {
                " (the environment is ignored: disallow_env_vars = true)"
            } else {
                " or AWSKMS_WRAPPER_KEY_ID"
            };
            problems.push(Problem::at(
                "kms_key_id",
                format!("missing: set kms_key_id{env}, or key_not_required = true for a wrapper that only decrypts"),
            ));
        }
        // awsutil: static keys from the block come as a pair, or not at all; otherwise the
        // SDK's chain, which reads the variables as a pair too.
        let access = from_stanza_only(stanza, "access_key");
        let secret = secret_from(stanza, "secret_key", Source::Stanza);
        let credentials = match (access, secret) {
            (Some(access_key), Some(secret_key)) => Some(StaticCredentials {
                access_key,
                secret_key,
                session_token: secret_from(stanza, "session_token", Source::Stanza),
                source: Source::Stanza,
            }),
            (Some(_), None) => {
                if !stanza.unusable("secret_key") {
                    problems.push(Problem::at(
                        "secret_key",
                        "missing: access_key is set, so Boundary needs secret_key too",
                    ));
                }
                None
            }
            (None, Some(_)) => {
                if !stanza.unusable("access_key") {
                    problems.push(Problem::at(
                        "access_key",
                        "missing: secret_key is set, so Boundary needs access_key too",
                    ));
                }
                None
            }
            (None, None) => {
                let env_access = sourced(stanza, "access_key")
                    .filter(|a| a.source == Source::Env("AWS_ACCESS_KEY_ID"))
                    .map(|a| a.value);
                let env_secret =
                    secret_from(stanza, "secret_key", Source::Env("AWS_SECRET_ACCESS_KEY"));
                match (env_access, env_secret) {
                    (Some(access_key), Some(secret_key)) => Some(StaticCredentials {
                        access_key,
                        secret_key,
                        session_token: secret_from(
                            stanza,
                            "session_token",
                            Source::Env("AWS_SESSION_TOKEN"),
                        ),
                        source: Source::Env("AWS_ACCESS_KEY_ID"),
                    }),
                    _ => None,
                }
            }
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(AwsKmsConfig {
            kms_key_id,
            region: sourced(stanza, "region"),
            endpoint: sourced(stanza, "endpoint").map(|mut e| {
                if !has_scheme(&e.value) {
                    e.value = format!("https://{}", e.value);
                }
                e
            }),
            credentials,
            shared_creds_filename: from_stanza_only(stanza, "shared_creds_filename"),
            shared_creds_profile: from_stanza_only(stanza, "shared_creds_profile"),
            role_arn: from_stanza_only(stanza, "role_arn"),
            role_session_name: from_stanza_only(stanza, "role_session_name"),
            web_identity_token_file: from_stanza_only(stanza, "web_identity_token_file"),
            disallow_env_vars: disallow,
            key_not_required,
            key_id: key_id_attr,
        })
    }

    /// The kms-aws options for this stanza.
    pub fn options(&self) -> AwsKmsOptions {
        let creds = self.credentials.as_ref();
        AwsKmsOptions {
            kms_key_id: self.kms_key_id.as_ref().map(|s| s.value.clone()),
            region: self.region.as_ref().map(|s| s.value.clone()),
            region_source: self.region.as_ref().map(|s| s.source.to_string()),
            endpoint: self.endpoint.as_ref().map(|s| s.value.clone()),
            endpoint_source: self.endpoint.as_ref().map(|s| s.source.to_string()),
            credentials_source: creds.map(|c| match c.source {
                Source::Stanza => "stanza".to_owned(),
                Source::Env(_) => "env".to_owned(),
            }),
            access_key: creds.map(|c| c.access_key.clone()),
            secret_key: creds.map(|c| c.secret_key.expose_secret().to_owned().into()),
            session_token: creds
                .and_then(|c| c.session_token.as_ref())
                .map(|t| t.expose_secret().to_owned().into()),
            shared_creds_filename: self.shared_creds_filename.clone(),
            shared_creds_profile: self.shared_creds_profile.clone(),
            role_arn: self.role_arn.clone(),
            role_session_name: self.role_session_name.clone(),
            web_identity_token_file: self.web_identity_token_file.clone(),
            ignore_env: self.disallow_env_vars,
            ..AwsKmsOptions::default()
        }
    }

    /// What `kms check` prints: the key, region and endpoint with their sources, and the
    /// credential source. No secret.
    pub fn describe(&self) -> String {
        let key = self.kms_key_id.as_ref().map_or_else(
            || "(none: decrypt only)".to_owned(),
            |k| format!("{} [{}]", k.value, k.source),
        );
        let region = self.region.as_ref().map_or_else(
            || {
                "[SDK default chain: profile, instance metadata; else us-east-1, kms default]"
                    .to_owned()
            },
            |r| format!("{} [{}]", r.value, r.source),
        );
        let endpoint = self.endpoint.as_ref().map_or_else(
            || "[SDK default: AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL, else AWS]".to_owned(),
            |e| {
                format!(
                    "{} [{}]",
                    crate::options::redact_userinfo(&e.value),
                    e.source
                )
            },
        );
        let creds = match (
            &self.credentials,
            &self.shared_creds_profile,
            &self.role_arn,
            &self.web_identity_token_file,
        ) {
            (Some(c), _, _, _) => format!("static keys [{}]", c.source),
            (None, _, Some(role), Some(_)) => format!("web identity, role {role} [stanza]"),
            (None, _, Some(role), None) => format!("assume role {role} [stanza]"),
            (None, Some(p), _, _) => format!("profile {p} [stanza]"),
            (None, None, None, _) => {
                "SDK default chain (env, profile, web identity, container, instance)".to_owned()
            }
        };
        format!("kms_key_id={key} region={region} endpoint={endpoint} credentials={creds}")
    }
}

/// aws-sdk-go's test for an endpoint with a scheme (`^([^:]+)://`); without one it adds
/// `https://`, and so does kms.
fn has_scheme(endpoint: &str) -> bool {
    endpoint
        .find("://")
        .is_some_and(|i| i > 0 && !endpoint[..i].contains(':'))
}

/// What Boundary accepts but an operator should hear about.
fn warnings(stanza: &Stanza) -> Vec<Problem> {
    let mut out = Vec::new();
    let token = secret_from(stanza, "session_token", Source::Stanza);
    if token.is_some()
        && from_stanza_only(stanza, "access_key").is_none()
        && secret_from(stanza, "secret_key", Source::Stanza).is_none()
    {
        out.push(Problem::warn(
            "session_token",
            "is set without access_key and secret_key; Boundary ignores it and uses the SDK's credential chain",
        ));
    }
    if let Some(e) = sourced(stanza, "endpoint") {
        if !has_scheme(&e.value) {
            out.push(Problem::warn(
                "endpoint",
                format!(
                    "has no scheme; Boundary's AWS SDK uses https://{}, and so does kms",
                    e.value
                ),
            ));
        }
    }
    out
}

#[async_trait]
impl BackendFactory for AwsKmsFactory {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn check(&self, stanza: &Stanza) -> Vec<Problem> {
        let mut problems = AwsKmsConfig::from_stanza(stanza).err().unwrap_or_default();
        problems.extend(warnings(stanza));
        problems
    }

    fn key_identity(&self, stanza: &Stanza) -> Option<KeyIdentity> {
        let c = AwsKmsConfig::from_stanza(stanza).ok()?;
        let k = c.kms_key_id?;
        let from = match k.source {
            Source::Stanza => "kms_key_id".to_owned(),
            Source::Env(v) => format!("kms_key_id, from env {v}"),
        };
        Some(KeyIdentity {
            id: k.value,
            from,
            attribute: "key_id",
        })
    }

    fn describe(&self, stanza: &Stanza) -> String {
        match AwsKmsConfig::from_stanza(stanza) {
            Ok(c) => c.describe(),
            Err(problems) => Problem::into_config_error(problems).to_string(),
        }
    }

    async fn build(&self, stanza: &Stanza, eager: bool) -> Result<Arc<dyn Backend>> {
        let opts = AwsKmsConfig::from_stanza(stanza)
            .map_err(Problem::into_config_error)?
            .options();
        if eager {
            Ok(Arc::new(AwsKms::connect(opts).await?))
        } else {
            Ok(Arc::new(AwsKms::connect_lazy(opts).await?))
        }
    }
}
