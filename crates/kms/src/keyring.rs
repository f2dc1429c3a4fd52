//! Wrappers built from a parsed config: one backend per (stanza, purpose).

use std::sync::Arc;

use kms_config::{BackendConfig, KmsConfig, WrapperConfig};
use kms_core::{Backend, Error, Purpose, Result};

/// One configured wrapper.
#[derive(Debug, Clone)]
pub struct Wrapper {
    /// The purpose it serves.
    pub purpose: Purpose,
    /// The stanza type, e.g. `aead`.
    pub kind: String,
    /// The line of its `kms` block.
    pub line: usize,
    /// The backend.
    pub backend: Arc<dyn Backend>,
}

/// The wrappers of a config, by purpose.
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    wrappers: Vec<Wrapper>,
}

impl Keyring {
    /// Builds a wrapper for every purpose of every stanza in `config`.
    ///
    /// Wrappers of `encrypt_purposes` are connected and checked now (for AWS KMS:
    /// DescribeKey). The others only decrypt and are built lazily, so that an unreachable
    /// old key does not stop new encryption.
    ///
    /// # Errors
    /// Backend errors from connecting an encrypting wrapper.
    pub async fn build(config: &KmsConfig, encrypt_purposes: &[Purpose]) -> Result<Keyring> {
        let mut wrappers = Vec::new();
        for w in &config.wrappers {
            let eager = encrypt_purposes.contains(&w.purpose);
            let backend = build_backend(w, eager)
                .await
                .map_err(|e| locate(config, w, e))?;
            wrappers.push(Wrapper {
                purpose: w.purpose,
                kind: w.kind.clone(),
                line: w.line,
                backend,
            });
        }
        Ok(Keyring { wrappers })
    }

    /// Every wrapper, in config order.
    pub fn all(&self) -> &[Wrapper] {
        &self.wrappers
    }

    /// The wrappers of exactly `purpose`, in config order.
    pub fn for_purpose(&self, purpose: Purpose) -> Vec<&dyn Backend> {
        self.wrappers
            .iter()
            .filter(|w| w.purpose == purpose)
            .map(|w| w.backend.as_ref())
            .collect()
    }

    /// The wrappers that may open data recorded under `purpose`: for root, the root wrapper
    /// then the previous-root wrappers.
    pub fn decrypt_wrappers(&self, purpose: Purpose) -> Vec<&dyn Backend> {
        purpose
            .decrypt_candidates()
            .iter()
            .flat_map(|&p| self.for_purpose(p))
            .collect()
    }

    /// Every wrapper that may open data recorded under `purpose`, in the order to try them:
    /// the purpose's own ([`Keyring::decrypt_wrappers`]), then every other configured
    /// wrapper in config order, for files whose data key was also wrapped under other
    /// purposes' keys (`kms encrypt --also`). Selection still matches recorded key ids, so
    /// an unrelated wrapper is only tried for an entry it may hold.
    pub fn decrypt_wrappers_all(&self, purpose: Purpose) -> Vec<&dyn Backend> {
        let mut out = self.decrypt_wrappers(purpose);
        let first = purpose.decrypt_candidates();
        out.extend(
            self.wrappers
                .iter()
                .filter(|w| !first.contains(&w.purpose))
                .map(|w| w.backend.as_ref()),
        );
        out
    }

    /// The wrappers that encrypt new data for `purpose`, followed by those of each of `also`
    /// (multi-key wrapping: any one of them can open the data), each key once.
    ///
    /// # Errors
    /// As [`Keyring::encrypt_wrappers`], for `purpose` and for each of `also`.
    pub fn encrypt_wrappers_with(
        &self,
        purpose: Purpose,
        also: &[Purpose],
    ) -> Result<Vec<&dyn Backend>> {
        let mut out = self.encrypt_wrappers(purpose)?;
        for &p in also {
            for w in self.encrypt_wrappers(p)? {
                // A key already listed (a repeated purpose, or one stanza serving several
                // purposes) would only add a second entry for the same key.
                if !out
                    .iter()
                    .any(|o| o.kind() == w.kind() && o.key_id() == w.key_id())
                {
                    out.push(w);
                }
            }
        }
        Ok(out)
    }

    /// The wrappers that encrypt new data for `purpose`.
    ///
    /// # Errors
    /// [`Error::Config`] when the config has no stanza for the purpose, or when the purpose
    /// is previous-root (which only decrypts).
    pub fn encrypt_wrappers(&self, purpose: Purpose) -> Result<Vec<&dyn Backend>> {
        if purpose == Purpose::PreviousRoot {
            return Err(Error::Config(
                "previous-root keys only decrypt; encrypt with purpose root".into(),
            ));
        }
        let ws = self.for_purpose(purpose);
        if ws.is_empty() {
            return Err(Error::Config(format!(
                "the config has no kms stanza with purpose \"{purpose}\""
            )));
        }
        Ok(ws)
    }
}

fn locate(config: &KmsConfig, w: &WrapperConfig, e: Error) -> Error {
    let place = format!(
        "{}: kms \"{}\" block at line {} (purpose {})",
        config.source, w.kind, w.line, w.purpose
    );
    match e {
        Error::Config(m) => Error::Config(format!("{place}: {m}")),
        Error::NotFound(m) => Error::NotFound(format!("{place}: {m}")),
        Error::PermissionDenied(m) => Error::PermissionDenied(format!("{place}: {m}")),
        Error::KeyUnusable(m) => Error::KeyUnusable(format!("{place}: {m}")),
        Error::Unavailable(m) => Error::Unavailable(format!("{place}: {m}")),
        Error::Throttled(m) => Error::Throttled(format!("{place}: {m}")),
        Error::Backend(m) => Error::Backend(format!("{place}: {m}")),
        other => other,
    }
}

async fn build_backend(w: &WrapperConfig, eager: bool) -> Result<Arc<dyn Backend>> {
    match &w.backend {
        BackendConfig::Aead(a) => Ok(Arc::new(kms_aead::AeadBackend::new(
            a.key.clone(),
            a.key_id.clone(),
        ))),
        #[cfg(feature = "aws")]
        BackendConfig::AwsKms(a) => crate::aws_glue::build(a, eager).await,
        #[allow(unreachable_patterns)]
        _ => {
            let _ = eager;
            Err(Error::Config(format!(
                "kms type \"{}\" is not compiled into this build",
                w.kind
            )))
        }
    }
}

/// One line describing a configured wrapper for `kms check`: purpose, type, key id, and for
/// awskms the region and endpoint with their sources and the credential source. No secret.
pub fn describe(w: &WrapperConfig) -> String {
    match &w.backend {
        BackendConfig::Aead(a) => {
            format!(
                "{:<22} aead    key_id={}",
                w.purpose.as_str(),
                if a.key_id.is_empty() {
                    "(empty)"
                } else {
                    &a.key_id
                }
            )
        }
        BackendConfig::AwsKms(a) => {
            let key = a.kms_key_id.as_ref().map_or_else(
                || "(none: decrypt only)".to_owned(),
                |k| format!("{} [{}]", k.value, k.source),
            );
            let region = a.region.as_ref().map_or_else(
                || {
                    "[SDK default chain: profile, instance metadata; else us-east-1, kms default]"
                        .to_owned()
                },
                |r| format!("{} [{}]", r.value, r.source),
            );
            let endpoint = a.endpoint.as_ref().map_or_else(
                || "[SDK default: AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL, else AWS]".to_owned(),
                |e| format!("{} [{}]", e.value, e.source),
            );
            let creds = match (
                &a.credentials,
                &a.shared_creds_profile,
                &a.role_arn,
                &a.web_identity_token_file,
            ) {
                (Some(c), _, _, _) => format!("static keys [{}]", c.source),
                (None, _, Some(role), Some(_)) => format!("web identity, role {role} [stanza]"),
                (None, _, Some(role), None) => format!("assume role {role} [stanza]"),
                (None, Some(p), _, _) => format!("profile {p} [stanza]"),
                (None, None, None, _) => {
                    "SDK default chain (env, profile, web identity, container, instance)".to_owned()
                }
            };
            format!("{:<22} awskms  kms_key_id={key} region={region} endpoint={endpoint} credentials={creds}", w.purpose.as_str())
        }
        #[allow(unreachable_patterns)]
        _ => format!("{:<22} {}", w.purpose.as_str(), w.kind),
    }
}
