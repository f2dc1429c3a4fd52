#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod ciphertext;
mod errors;
mod http;
mod options;
mod stanza;
mod tls;

use std::fmt;

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bytes::Bytes;
use hyper::Method;
use kms_core::{Backend, Error, KeyId, Result, SecretBytes, SecretLimits, WrapContext, Wrapped};
use tokio::sync::OnceCell;
use zeroize::Zeroizing;

pub use ciphertext::ciphertext_version;
pub use options::{Origin, Timeouts, TlsOptions, TransitOptions, DEFAULT_ADDRESS};
pub use stanza::{describe_options, options_from_stanza, TransitFactory, FACTORY, SCHEMA};

use ciphertext::{as_ciphertext, context_digest};
use errors::{map_failure, Op, Place};
use http::Http;

/// The backend type name, as in `kms "transit" {...}`.
pub const KIND: kms_core::BackendKind = kms_core::BackendKind::from_static("transit");

/// The most a transit wrapper encrypts in one call: larger values use envelope encryption.
/// (OpenBao's default request limit is 32 MiB; Vault's is the same.)
pub const MAX_SECRET: usize = 1 << 20;

/// The length of the context digest appended to a secret wrapped with no AAD
/// (docs/FORMAT.md, "transit wrapped keys").
pub const DIGEST_LEN: usize = 32;

/// The latest and oldest decryptable versions of a transit key (`GET keys/NAME`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyVersions {
    /// `latest_version`.
    pub latest: u64,
    /// `min_decryption_version`.
    pub min_decryption: u64,
}

/// A Vault/OpenBao Transit key. `Send + Sync`; share it behind an `Arc`.
pub struct Transit {
    http: Http,
    mount: String,
    key_name: String,
    prefix: String,
    /// `prefix` + `vN` after the test encrypt (eager), else `prefix` alone (lazy).
    key_id: KeyId,
    version: Option<u64>,
    disable_renewal: bool,
    has_token: bool,
    token_source: String,
    namespace: Option<String>,
    facts: Vec<(&'static str, String)>,
    started: OnceCell<()>,
}

impl fmt::Debug for Transit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transit")
            .field("address", &self.http.address())
            .field("mount", &self.mount)
            .field("key_name", &self.key_name)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

#[derive(serde::Serialize)]
struct EncryptRequest<'a> {
    plaintext: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    associated_data: Option<String>,
}

#[derive(serde::Serialize)]
struct CiphertextRequest<'a> {
    ciphertext: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    associated_data: Option<String>,
}

#[derive(serde::Deserialize)]
struct Envelope<T> {
    data: T,
}

#[derive(serde::Deserialize)]
struct CiphertextData {
    ciphertext: String,
}

#[derive(serde::Deserialize)]
struct PlaintextData {
    #[serde(deserialize_with = "zeroizing_string")]
    plaintext: Zeroizing<String>,
}

fn zeroizing_string<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Zeroizing<String>, D::Error> {
    <String as serde::Deserialize>::deserialize(d).map(Zeroizing::new)
}

#[derive(serde::Deserialize)]
struct KeyData {
    latest_version: u64,
    #[serde(default)]
    min_decryption_version: u64,
}

impl Transit {
    /// Builds the client, renews the token once (unless `disable_renewal`; a failure is a
    /// warning), and encrypts a test value, as go-kms-wrapping's wrapper does: its version is
    /// the key's latest and gives [`Backend::key_id`] (`key_id_prefix` + `vN`).
    ///
    /// # Errors
    /// [`Error::Config`] for unusable settings; the mapped error of the test encrypt
    /// (unreachable server, permission, missing key).
    pub async fn connect(opts: TransitOptions) -> Result<Transit> {
        let mut t = Transit::connect_lazy(opts)?;
        t.start().await;
        let (ct, version) = t.encrypt_raw(b"a", None).await?;
        drop(ct);
        t.version = Some(version);
        t.key_id = KeyId::new(format!("{}v{version}", t.prefix));
        Ok(t)
    }

    /// Builds the client without contacting the server: for wrappers that only decrypt, so an
    /// unreachable old key stops nothing else. The token is renewed on first use.
    /// [`Backend::key_id`] is the `key_id_prefix` alone until a wrap.
    ///
    /// # Errors
    /// [`Error::Config`] for TLS settings that cannot be read.
    pub fn connect_lazy(opts: TransitOptions) -> Result<Transit> {
        let http = Http::new(&opts)?;
        let mut facts = vec![
            (
                "address",
                format!(
                    "{} [{}]",
                    kms_core::stanza::redact_userinfo(&opts.address.value),
                    opts.address.source_label()
                ),
            ),
            (
                "mount_path",
                format!(
                    "{} [{}]",
                    opts.mount_path.value,
                    opts.mount_path.source_label()
                ),
            ),
            (
                "key_name",
                format!("{} [{}]", opts.key_name.value, opts.key_name.source_label()),
            ),
            ("token", opts.token_source()),
        ];
        if let Some(ns) = &opts.namespace {
            facts.push(("namespace", format!("{} [{}]", ns.value, ns.source_label())));
        }
        Ok(Transit {
            http,
            mount: opts.mount().to_owned(),
            key_name: opts.key_name.value.clone(),
            prefix: opts.key_id_prefix.clone(),
            key_id: KeyId::new(opts.key_id_prefix.clone()),
            version: None,
            disable_renewal: opts.disable_renewal.value,
            has_token: opts.token.is_some(),
            token_source: opts.token_source(),
            namespace: opts.namespace.as_ref().map(|n| n.value.clone()),
            facts,
            started: OnceCell::new(),
        })
    }

    /// The key version the test encrypt used (the latest at connect), for eager wrappers.
    pub fn key_version(&self) -> Option<u64> {
        self.version
    }

    /// The transit key's name.
    pub fn key_name(&self) -> &str {
        &self.key_name
    }

    fn path(&self, op: &str) -> String {
        format!("{}/{op}/{}", self.mount, self.key_name)
    }

    fn place<'a>(&'a self, path: &'a str) -> Place<'a> {
        Place {
            address: self.http.address(),
            namespace: self.namespace.as_deref(),
            path,
            key: &self.key_name,
            token_source: &self.token_source,
        }
    }

    /// The token renewal, once per wrapper, as go-kms-wrapping's `SetConfig` (without its
    /// background renewer: kms runs for one command). A non-renewable token (root, batch) is
    /// normal; another failure is a warning.
    async fn start(&self) {
        self.started
            .get_or_init(|| async {
                if self.disable_renewal || !self.has_token {
                    return;
                }
                let r = self
                    .http
                    .call(
                        Method::PUT,
                        "auth/token/renew-self",
                        Bytes::from_static(b"{\"increment\":0}"),
                    )
                    .await;
                match r {
                    Ok(Ok(_)) => tracing::debug!("transit: token renewed"),
                    Ok(Err(http::Failure::Status {
                        status: 400,
                        messages,
                    })) if messages.iter().any(|m| m.contains("not renewable")) => {
                        tracing::debug!("transit: the token is not renewable");
                    }
                    // Unreachable: the operation itself reports it.
                    Ok(Err(f @ http::Failure::Transport { .. })) => {
                        tracing::debug!("transit: token renewal: {}", short(&f));
                    }
                    Ok(Err(f)) => tracing::warn!(
                        "transit at {}: unable to renew the {} ({}); going on without renewal (allow update on auth/token/renew-self, or set disable_renewal = true)",
                        self.http.address(),
                        self.token_source,
                        short(&f)
                    ),
                    Err(e) => tracing::warn!(
                        "transit at {}: unable to renew the token: {e}",
                        self.http.address()
                    ),
                }
            })
            .await;
    }

    async fn post(&self, op: Op, path: &str, body: Vec<u8>) -> Result<Zeroizing<Vec<u8>>> {
        self.start().await;
        // The body may hold a plaintext: hyper takes it as `Bytes`, which is not zeroized
        // (as the AWS SDK's Blob); our copy is.
        let body = Zeroizing::new(body);
        match self
            .http
            .call(Method::PUT, path, Bytes::copy_from_slice(&body))
            .await?
        {
            Ok(reply) => Ok(reply),
            Err(f) if matches!(op, Op::Decrypt | Op::Rewrap) && too_old(&f) => {
                Err(self.too_old_error(path).await)
            }
            Err(f) => Err(map_failure(f, op, &self.place(path))),
        }
    }

    async fn too_old_error(&self, path: &str) -> Error {
        let versions = match self.read_key().await {
            Ok(v) => format!(
                "the key's min_decryption_version is {} (latest version {})",
                v.min_decryption, v.latest
            ),
            Err(_) => "the key's min_decryption_version is higher (the token may not read keys/NAME to say more)".to_owned(),
        };
        Error::KeyUnusable(format!(
            "transit key {:?} at {} refuses to decrypt (v1/{path}): the data is under an older key version than allowed; {versions}. Lower min_decryption_version (POST {}/keys/{}/config) to read it",
            self.key_name,
            self.http.address(),
            self.mount,
            self.key_name
        ))
    }

    /// `GET keys/NAME`: the key's latest and minimum decryption versions (needs `read` on
    /// that path).
    ///
    /// # Errors
    /// The mapped error of the call.
    pub async fn read_key(&self) -> Result<KeyVersions> {
        self.start().await;
        let path = format!("{}/keys/{}", self.mount, self.key_name);
        let body = match self.http.call(Method::GET, &path, Bytes::new()).await? {
            Ok(b) => b,
            Err(f) => return Err(map_failure(f, Op::ReadKey, &self.place(&path))),
        };
        let k: Envelope<KeyData> = serde_json::from_slice(&body)
            .map_err(|e| Error::Backend(format!("transit read key v1/{path}: {e}")))?;
        Ok(KeyVersions {
            latest: k.data.latest_version,
            min_decryption: k.data.min_decryption_version,
        })
    }

    /// Encrypt: the ciphertext string and its version.
    async fn encrypt_raw(&self, plaintext: &[u8], aad: Option<&[u8]>) -> Result<(String, u64)> {
        let path = self.path("encrypt");
        let b64 = Zeroizing::new(B64.encode(plaintext));
        let req = EncryptRequest {
            plaintext: &b64,
            associated_data: aad.map(|a| B64.encode(a)),
        };
        let body = serde_json::to_vec(&req)
            .map_err(|e| Error::Internal(format!("encoding a transit request: {e}")))?;
        let reply = self.post(Op::Encrypt, &path, body).await?;
        self.ciphertext_reply(&reply, &path)
    }

    fn ciphertext_reply(&self, reply: &[u8], path: &str) -> Result<(String, u64)> {
        let d: Envelope<CiphertextData> = serde_json::from_slice(reply)
            .map_err(|e| Error::Backend(format!("transit v1/{path}: unreadable response: {e}")))?;
        let ct = d.data.ciphertext;
        // go-kms-wrapping: the ciphertext must split into exactly three parts on ':'.
        let version = (ct.split(':').count() == 3)
            .then(|| ciphertext_version(ct.as_bytes()))
            .flatten()
            .ok_or_else(|| {
                Error::Backend(format!(
                    "transit v1/{path}: invalid ciphertext returned (not vault:vN:...)"
                ))
            })?;
        Ok((ct, version))
    }

    async fn decrypt_raw(&self, ct: &str, aad: Option<&[u8]>) -> Result<SecretBytes> {
        let path = self.path("decrypt");
        let req = CiphertextRequest {
            ciphertext: ct,
            associated_data: aad.map(|a| B64.encode(a)),
        };
        let body = serde_json::to_vec(&req)
            .map_err(|e| Error::Internal(format!("encoding a transit request: {e}")))?;
        let reply = self.post(Op::Decrypt, &path, body).await?;
        let d: Envelope<PlaintextData> = serde_json::from_slice(&reply)
            .map_err(|_| Error::Backend(format!("transit v1/{path}: unreadable response")))?;
        B64.decode(d.data.plaintext.as_bytes())
            .map(SecretBytes::new)
            .map_err(|_| Error::Backend(format!("transit v1/{path}: plaintext is not base64")))
    }

    fn key_id_for(&self, version: u64) -> KeyId {
        KeyId::new(format!("{}v{version}", self.prefix))
    }

    /// Whether `recorded` is an id this wrapper writes: `key_id_prefix` + `vN`.
    fn is_own_id(&self, recorded: &KeyId) -> bool {
        recorded
            .as_str()
            .strip_prefix(&self.prefix)
            .and_then(|v| v.strip_prefix('v'))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    }
}

fn short(f: &http::Failure) -> String {
    match f {
        http::Failure::Transport { cause, .. } => cause.clone(),
        http::Failure::Status { status, messages } => format!("{status}: {}", messages.join("; ")),
        http::Failure::Protocol(m) => m.clone(),
    }
}

fn too_old(f: &http::Failure) -> bool {
    matches!(f, http::Failure::Status { status: 400, messages } if errors::is_too_old(messages))
}

#[async_trait]
impl Backend for Transit {
    fn kind(&self) -> kms_core::BackendKind {
        KIND
    }

    fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    fn secret_limits(&self) -> SecretLimits {
        SecretLimits {
            min: 0,
            max: Some(MAX_SECRET),
        }
    }

    /// Values are the wrapper's: the transit ciphertext itself, as go-kms-wrapping writes them.
    fn prefers_direct_values(&self) -> bool {
        true
    }

    /// Ids of the form `key_id_prefix` + `vN`: any version of the key may still decrypt.
    fn may_unwrap(&self, recorded: &KeyId) -> bool {
        self.is_own_id(recorded)
    }

    fn describe(&self) -> Vec<(&'static str, String)> {
        let mut out = self.facts.clone();
        if let Some(v) = self.version {
            out.push((
                "key_version",
                format!("v{v} (latest, from the test encrypt)"),
            ));
        }
        out
    }

    /// Encrypt. With an AAD (direct values) the secret is sent as is, the AAD as transit's
    /// `associated_data`; with no AAD or a context the secret is sent followed by the
    /// SHA-256 of the context's bytes, which unwrap checks (docs/FORMAT.md).
    async fn wrap(&self, secret: &[u8], context: &WrapContext) -> Result<Wrapped> {
        if !self.secret_limits().allows(secret.len()) {
            return Err(Error::InvalidInput(format!(
                "transit wraps at most {MAX_SECRET} bytes, got {}",
                secret.len()
            )));
        }
        let (ct, version) = match context {
            WrapContext::Aad(aad) => {
                let aad = (!aad.is_empty()).then_some(aad.as_slice());
                self.encrypt_raw(secret, aad).await?
            }
            WrapContext::None | WrapContext::Pairs(_) => {
                let mut bound = Zeroizing::new(Vec::with_capacity(secret.len() + DIGEST_LEN));
                bound.extend_from_slice(secret);
                bound.extend_from_slice(&context_digest(context));
                self.encrypt_raw(&bound, None).await?
            }
        };
        Ok(Wrapped {
            bytes: ct.into_bytes(),
            key_id: self.key_id_for(version),
        })
    }

    async fn unwrap(
        &self,
        wrapped: &[u8],
        _recorded: &KeyId,
        context: &WrapContext,
    ) -> Result<SecretBytes> {
        let ct = as_ciphertext(wrapped)?;
        match context {
            WrapContext::Aad(aad) if !aad.is_empty() => {
                match self.decrypt_raw(ct, Some(aad)).await {
                    // go-kms-wrapping's transit wrapper ignores AAD: its values were
                    // encrypted without one and open without one.
                    Err(e) if e.is_decrypt_failed() => self.decrypt_raw(ct, None).await,
                    other => other,
                }
            }
            WrapContext::Aad(_) => self.decrypt_raw(ct, None).await,
            WrapContext::None | WrapContext::Pairs(_) => {
                let mut plain = self.decrypt_raw(ct, None).await?;
                let n = plain.len();
                if n < DIGEST_LEN
                    || plain.expose_secret()[n - DIGEST_LEN..] != context_digest(context)
                {
                    return Err(Error::DecryptFailed);
                }
                plain.expose_secret_mut().truncate(n - DIGEST_LEN);
                Ok(plain)
            }
        }
    }

    /// `transit/rewrap`: the server decrypts and encrypts under the latest version; the secret
    /// never leaves it. Not for secrets bound to an AAD (rewrap takes no `associated_data`),
    /// nor for ids this wrapper does not write.
    async fn rewrap(
        &self,
        wrapped: &[u8],
        recorded: &KeyId,
        context: &WrapContext,
    ) -> Result<Option<Wrapped>> {
        if matches!(context, WrapContext::Aad(a) if !a.is_empty()) || !self.is_own_id(recorded) {
            return Ok(None);
        }
        let ct = as_ciphertext(wrapped)?;
        let path = self.path("rewrap");
        let body = serde_json::to_vec(&CiphertextRequest {
            ciphertext: ct,
            associated_data: None,
        })
        .map_err(|e| Error::Internal(format!("encoding a transit request: {e}")))?;
        let reply = self.post(Op::Rewrap, &path, body).await?;
        let (ct, version) = self.ciphertext_reply(&reply, &path)?;
        Ok(Some(Wrapped {
            bytes: ct.into_bytes(),
            key_id: self.key_id_for(version),
        }))
    }
}
