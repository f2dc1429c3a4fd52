#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod errors;
mod options;
mod stanza;

use std::fmt;

use async_trait::async_trait;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeySpec, KeyState, KeyUsageType};
use kms_core::{Backend, Error, KeyId, Result, SecretBytes, SecretLimits, WrapContext, Wrapped};
use tokio::sync::OnceCell;

pub use options::{AwsKmsOptions, Sources, DEFAULT_REGION};
pub use stanza::{AwsKmsConfig, AwsKmsFactory, StaticCredentials, FACTORY, SCHEMA};

use errors::{map_sdk_error, Op};

/// The backend type name, as in `kms "awskms" {...}`.
pub const KIND: kms_core::BackendKind = kms_core::BackendKind::from_static("awskms");

/// The most plaintext KMS Encrypt takes.
pub const MAX_SECRET: usize = 4096;

/// An AWS KMS key. `Send + Sync`; share it behind an `Arc`.
pub struct AwsKms {
    client: aws_sdk_kms::Client,
    /// The configured id (key id, ARN, alias name or alias ARN).
    configured: String,
    /// The key ARN after DescribeKey (eager), or the configured id (lazy).
    key_id: KeyId,
    /// Lazy wrappers check the key on first wrap.
    checked: OnceCell<()>,
    sources: Sources,
}

impl fmt::Debug for AwsKms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsKms")
            .field("key_id", &self.key_id)
            .field("region", &self.sources.region)
            .field("endpoint", &self.sources.endpoint)
            .finish_non_exhaustive()
    }
}

impl AwsKms {
    /// Builds the client and runs DescribeKey on the configured key, refusing a key that
    /// cannot encrypt. The key ARN becomes [`Backend::key_id`].
    ///
    /// # Errors
    /// [`Error::Config`] for missing or contradictory settings; [`Error::NotFound`],
    /// [`Error::KeyUnusable`], [`Error::PermissionDenied`], [`Error::Unavailable`] from KMS.
    pub async fn connect(opts: AwsKmsOptions) -> Result<AwsKms> {
        let mut kms = AwsKms::connect_lazy(opts).await?;
        if kms.configured.is_empty() {
            return Err(Error::Config(
                "kms_key_id is needed for a wrapper that encrypts".into(),
            ));
        }
        let arn = kms.describe().await?;
        kms.key_id = KeyId::new(arn);
        let _ = kms.checked.set(());
        Ok(kms)
    }

    /// Builds the client without contacting KMS: for wrappers that only decrypt, so that an
    /// unreachable old key does not stop anything else. [`Backend::key_id`] is the configured
    /// id (or empty with `key_not_required`).
    ///
    /// # Errors
    /// [`Error::Config`] for contradictory settings (e.g. FIPS with a custom endpoint).
    pub async fn connect_lazy(opts: AwsKmsOptions) -> Result<AwsKms> {
        let (client, sources) = options::build_client(&opts).await?;
        let configured = opts.kms_key_id.clone().unwrap_or_default();
        Ok(AwsKms {
            client,
            key_id: KeyId::new(configured.clone()),
            configured,
            checked: OnceCell::new(),
            sources,
        })
    }

    /// The key id KMS reported using (its ARN), else this wrapper's own.
    fn reported(&self, key_id: Option<String>) -> KeyId {
        key_id.map_or_else(|| self.key_id.clone(), KeyId::new)
    }

    /// Where the region, endpoint and credentials came from.
    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    fn place(&self) -> String {
        format!(
            "region {}, endpoint {}",
            self.sources.region,
            self.sources.endpoint_shown()
        )
    }

    /// DescribeKey: checks state, usage and spec; returns the key ARN.
    async fn describe(&self) -> Result<String> {
        let out = self
            .client
            .describe_key()
            .key_id(&self.configured)
            .send()
            .await
            .map_err(|e| map_sdk_error(e, Op::DescribeKey, &self.configured, &self.place()))?;
        let meta = out.key_metadata().ok_or_else(|| {
            Error::Backend(format!(
                "DescribeKey of {} returned no metadata",
                self.configured
            ))
        })?;
        let arn = meta.arn().unwrap_or(meta.key_id()).to_owned();
        if let Some(state) = meta.key_state() {
            if state != &KeyState::Enabled {
                return Err(Error::KeyUnusable(format!(
                    "key {arn} is {}, not Enabled",
                    state.as_str()
                )));
            }
        } else if !meta.enabled() {
            return Err(Error::KeyUnusable(format!("key {arn} is disabled")));
        }
        // An absent KeyUsage or KeySpec (moto omits them for keys created without) is unknown,
        // not a reason to refuse; a present one must be symmetric encryption.
        if let Some(usage) = meta.key_usage() {
            if usage != &KeyUsageType::EncryptDecrypt {
                return Err(Error::KeyUnusable(format!(
                    "key {arn} has KeyUsage {}, need ENCRYPT_DECRYPT",
                    usage.as_str()
                )));
            }
        }
        if let Some(spec) = meta.key_spec() {
            if spec != &KeySpec::SymmetricDefault {
                return Err(Error::KeyUnusable(format!(
                    "key {arn} has KeySpec {}, need SYMMETRIC_DEFAULT",
                    spec.as_str()
                )));
            }
        }
        Ok(arn)
    }

    /// KMS GenerateDataKey (AES-256): the data key in the clear and wrapped under the current
    /// key. An alternative to generating the key locally and calling Encrypt.
    ///
    /// # Errors
    /// KMS errors, mapped as for `wrap`.
    pub async fn generate_data_key(&self, context: &WrapContext) -> Result<(SecretBytes, Wrapped)> {
        let req = self
            .client
            .generate_data_key()
            .key_id(self.key_id.as_str())
            .key_spec(aws_sdk_kms::types::DataKeySpec::Aes256);
        let out = apply_context(req, context, |r, k, v| r.encryption_context(k, v))
            .send()
            .await
            .map_err(|e| {
                map_sdk_error(e, Op::GenerateDataKey, self.key_id.as_str(), &self.place())
            })?;
        let plain = out
            .plaintext
            .map(|p| SecretBytes::new(p.into_inner()))
            .ok_or_else(|| Error::Backend("KMS GenerateDataKey returned no plaintext".into()))?;
        let wrapped = out
            .ciphertext_blob
            .map(Blob::into_inner)
            .ok_or_else(|| Error::Backend("KMS GenerateDataKey returned no ciphertext".into()))?;
        let key_id = self.reported(out.key_id);
        Ok((
            plain,
            Wrapped {
                bytes: wrapped,
                key_id,
            },
        ))
    }
}

/// The KMS encryption context for a wrap context. `Aad` has no pairs: empty AAD means no
/// context; non-empty AAD is sent as `{"aad": base64(AAD)}` (direct values only).
fn context_pairs(context: &WrapContext) -> Vec<(String, String)> {
    use base64::Engine;
    match context {
        WrapContext::None => Vec::new(),
        WrapContext::Aad(a) if a.is_empty() => Vec::new(),
        WrapContext::Aad(a) => vec![(
            "aad".to_owned(),
            base64::engine::general_purpose::STANDARD.encode(a),
        )],
        WrapContext::Pairs(m) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    }
}

fn apply_context<R>(mut req: R, context: &WrapContext, f: impl Fn(R, String, String) -> R) -> R {
    for (k, v) in context_pairs(context) {
        req = f(req, k, v);
    }
    req
}

#[async_trait]
impl Backend for AwsKms {
    fn kind(&self) -> kms_core::BackendKind {
        KIND
    }

    fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    fn secret_limits(&self) -> SecretLimits {
        SecretLimits {
            min: 1,
            max: Some(MAX_SECRET),
        }
    }

    fn describe(&self) -> Vec<(&'static str, String)> {
        let s = &self.sources;
        vec![
            ("region", format!("{} [{}]", s.region, s.region_source)),
            (
                "endpoint",
                format!(
                    "{} [{}]",
                    s.endpoint.as_deref().unwrap_or("AWS default"),
                    s.endpoint_source
                ),
            ),
            ("credentials", s.credentials.clone()),
            ("fips", s.fips.to_string()),
        ]
    }

    /// Any recorded id in this wrapper's region first: KMS finds the key from the ciphertext,
    /// and an alias may have moved since the data was written. A key ARN of another region is
    /// better left to a wrapper there; it is still tried here after those, as the id is not
    /// authenticated.
    fn may_unwrap(&self, recorded: &KeyId) -> bool {
        arn_region(recorded.as_str()).is_none_or(|r| r == self.sources.region)
    }

    async fn wrap(&self, secret: &[u8], context: &WrapContext) -> Result<Wrapped> {
        if !self.secret_limits().allows(secret.len()) {
            return Err(Error::InvalidInput(format!(
                "KMS Encrypt takes 1 to {MAX_SECRET} bytes, got {}",
                secret.len()
            )));
        }
        if self.key_id.is_empty() {
            return Err(Error::Config(
                "this awskms wrapper has no kms_key_id (key_not_required): it only decrypts".into(),
            ));
        }
        self.checked
            .get_or_try_init(|| async { self.describe().await.map(|_| ()) })
            .await?;
        // The SDK takes the plaintext as an owned Blob (an ordinary Vec), which it does not zeroize.
        let req = self
            .client
            .encrypt()
            .key_id(self.key_id.as_str())
            .plaintext(Blob::new(secret.to_vec()));
        let out = apply_context(req, context, |r, k, v| r.encryption_context(k, v))
            .send()
            .await
            .map_err(|e| map_sdk_error(e, Op::Encrypt, self.key_id.as_str(), &self.place()))?;
        let bytes = out
            .ciphertext_blob
            .map(Blob::into_inner)
            .ok_or_else(|| Error::Backend("KMS Encrypt returned no ciphertext".into()))?;
        let key_id = self.reported(out.key_id);
        Ok(Wrapped { bytes, key_id })
    }

    async fn unwrap(
        &self,
        wrapped: &[u8],
        recorded: &KeyId,
        context: &WrapContext,
    ) -> Result<SecretBytes> {
        if wrapped.is_empty() {
            return Err(Error::DecryptFailed);
        }
        // No KeyId, as go-kms-wrapping's Decrypt: KMS finds the key from the ciphertext. The
        // recorded id is not authenticated, and a stale one (an alias recorded by an older
        // wrapper and since moved) must not stop data that KMS would open.
        let req = self
            .client
            .decrypt()
            .ciphertext_blob(Blob::new(wrapped.to_vec()));
        let key = if recorded.is_empty() {
            self.key_id.as_str()
        } else {
            recorded.as_str()
        };
        let out = apply_context(req, context, |r, k, v| r.encryption_context(k, v))
            .send()
            .await
            .map_err(|e| map_sdk_error(e, Op::Decrypt, key, &self.place()))?;
        // The plaintext Blob's Vec moves into SecretBytes without a copy.
        out.plaintext
            .map(|p| SecretBytes::new(p.into_inner()))
            .ok_or_else(|| Error::Backend("KMS Decrypt returned no plaintext".into()))
    }

    /// KMS ReEncrypt to the current key, with the same context on both sides: the secret never
    /// leaves KMS.
    async fn rewrap(
        &self,
        wrapped: &[u8],
        recorded: &KeyId,
        context: &WrapContext,
    ) -> Result<Option<Wrapped>> {
        if self.key_id.is_empty() {
            return Ok(None);
        }
        // No SourceKeyId, for the same reason as in `unwrap`.
        let mut req = self
            .client
            .re_encrypt()
            .ciphertext_blob(Blob::new(wrapped.to_vec()))
            .destination_key_id(self.key_id.as_str());
        for (k, v) in context_pairs(context) {
            req = req
                .source_encryption_context(k.clone(), v.clone())
                .destination_encryption_context(k, v);
        }
        let out = req
            .send()
            .await
            .map_err(|e| map_sdk_error(e, Op::ReEncrypt, recorded.as_str(), &self.place()))?;
        let bytes = out
            .ciphertext_blob
            .map(Blob::into_inner)
            .ok_or_else(|| Error::Backend("KMS ReEncrypt returned no ciphertext".into()))?;
        let key_id = self.reported(out.key_id);
        Ok(Some(Wrapped { bytes, key_id }))
    }
}

/// The region of a KMS key or alias ARN (`arn:PARTITION:kms:REGION:ACCOUNT:...`).
fn arn_region(id: &str) -> Option<&str> {
    let mut parts = id.splitn(6, ':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("arn"), Some(_), Some("kms"), Some(region)) if !region.is_empty() => Some(region),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::arn_region;

    #[test]
    fn arn_regions() {
        assert_eq!(
            arn_region("arn:aws:kms:eu-west-1:123456789012:key/abc"),
            Some("eu-west-1")
        );
        assert_eq!(
            arn_region("arn:aws-us-gov:kms:us-gov-west-1:1:alias/x"),
            Some("us-gov-west-1")
        );
        assert_eq!(arn_region("alias/app"), None);
        assert_eq!(arn_region("1234abcd-12ab-34cd-56ef-1234567890ab"), None);
        assert_eq!(arn_region("arn:aws:s3:::bucket"), None);
    }
}
