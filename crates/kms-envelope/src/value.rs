//! Value encryption: go-kms-wrapping v2 [`BlobInfo`] values over any backend.
//!
//! Two mechanisms:
//! - [`Mechanism::Direct`]: the backend wraps the value itself. For aead this is Boundary's
//!   layout (`nonce ‖ ciphertext ‖ tag`, caller's AAD to AES-GCM); for awskms it is mechanism 0
//!   (the KMS blob), limited to what KMS Encrypt takes (4 KiB).
//! - [`Mechanism::Envelope`]: a fresh 32-byte data key and 12-byte IV encrypt the value with
//!   AES-256-GCM and the caller's AAD; the backend wraps the data key with no context, as
//!   go-kms-wrapping does. `KeyInfo.mechanism` is 1 (awskms's envelope mechanism).
//!
//! The default is the backend's preference ([`Backend::prefers_direct_values`]): aead → direct,
//! awskms → envelope. These keep our values readable by Boundary and go-kms-wrapping.

use kms_core::cipher::{AesGcm, NONCE_LEN, TAG_LEN};
use kms_core::{
    awskms_mechanism, Backend, BlobInfo, Error, Key256, KeyId, KeyInfo, Purpose, Result,
    SecretBytes, WrapContext,
};

use crate::keyring::Keyring;
use crate::select::{self, Recorded};

/// How a value is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mechanism {
    /// The backend wraps the value itself.
    Direct,
    /// A local AES-256-GCM data key encrypts the value; the backend wraps the data key.
    Envelope,
}

impl Mechanism {
    /// The mechanism `backend` uses when the caller does not choose.
    pub fn default_for(backend: &dyn Backend) -> Mechanism {
        if backend.prefers_direct_values() {
            Mechanism::Direct
        } else {
            Mechanism::Envelope
        }
    }
}

/// Encrypts `plaintext` with `backend`, binding `aad`.
///
/// # Errors
/// [`Error::InvalidInput`] when `Direct` is asked for a value outside the backend's limits;
/// backend errors otherwise.
pub async fn encrypt_value(
    backend: &dyn Backend,
    plaintext: &[u8],
    aad: &[u8],
    mechanism: Option<Mechanism>,
) -> Result<BlobInfo> {
    match mechanism.unwrap_or_else(|| Mechanism::default_for(backend)) {
        Mechanism::Direct => {
            let limits = backend.secret_limits();
            if !limits.allows(plaintext.len()) {
                return Err(Error::InvalidInput(format!(
                    "{} direct encryption takes {} to {} bytes; this value has {} (use envelope encryption)",
                    backend.kind(),
                    limits.min,
                    limits.max.map_or("any number of".to_owned(), |m| m.to_string()),
                    plaintext.len()
                )));
            }
            let wrapped = backend
                .wrap(plaintext, &WrapContext::Aad(aad.to_vec()))
                .await?;
            Ok(BlobInfo {
                ciphertext: wrapped.bytes,
                key_info: Some(KeyInfo {
                    mechanism: awskms_mechanism::DIRECT,
                    key_id: wrapped.key_id.as_str().to_owned(),
                    ..Default::default()
                }),
                ..Default::default()
            })
        }
        Mechanism::Envelope => {
            // One copy, sized for the tag, then the in-place path.
            let mut owned = Vec::with_capacity(plaintext.len() + TAG_LEN);
            owned.extend_from_slice(plaintext);
            encrypt_value_owned(backend, owned, aad).await
        }
    }
}

/// Encrypts an owned `plaintext` as an envelope value (mechanism 1), in place: the buffer
/// becomes the value's ciphertext, so no copy of the data is made and no plaintext copy is
/// left behind. Same output format as [`encrypt_value`] with [`Mechanism::Envelope`].
///
/// # Errors
/// Backend errors from wrapping the data key.
pub async fn encrypt_value_owned(
    backend: &dyn Backend,
    mut plaintext: Vec<u8>,
    aad: &[u8],
) -> Result<BlobInfo> {
    let data_key = Key256::generate()?;
    let iv: [u8; NONCE_LEN] = kms_core::random_array()?;
    let wrapped = backend
        .wrap(data_key.expose_secret(), &WrapContext::None)
        .await?;
    plaintext.reserve_exact(TAG_LEN);
    let tag = AesGcm::new(&data_key).seal_detached(&iv, aad, &mut plaintext)?;
    plaintext.extend_from_slice(&tag);
    Ok(BlobInfo {
        ciphertext: plaintext,
        iv: iv.to_vec(),
        key_info: Some(KeyInfo {
            mechanism: awskms_mechanism::ENVELOPE_AES_GCM,
            key_id: wrapped.key_id.as_str().to_owned(),
            wrapped_key: wrapped.bytes,
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// Decrypts `blob` with the first of `wrappers` that opens it, binding `aad`.
///
/// `wrappers` are the configured wrappers of the purpose, in order; `purpose` names it in
/// errors. See [`select::try_candidates`] for the order and the errors.
///
/// # Errors
/// [`Error::DecryptFailed`] on a wrong key, wrong AAD or modified data;
/// [`Error::NoMatchingWrapper`] when no wrapper may open the recorded key id.
pub async fn decrypt_value(
    wrappers: &[&dyn Backend],
    blob: &BlobInfo,
    aad: &[u8],
    purpose: Purpose,
) -> Result<SecretBytes> {
    let recorded = [Recorded {
        kind: None,
        key_id: KeyId::new(blob.key_id()),
    }];
    if blob.is_envelope() {
        let iv: [u8; NONCE_LEN] = blob
            .iv
            .as_slice()
            .try_into()
            .map_err(|_| Error::DecryptFailed)?;
        if blob.ciphertext.len() < TAG_LEN {
            return Err(Error::DecryptFailed);
        }
        let id = &recorded[0].key_id;
        select::try_candidates(
            wrappers,
            &recorded,
            purpose,
            select::Fallback::EveryWrapper,
            |w, _| async move {
                let dk = w.unwrap(blob.wrapped_key(), id, &WrapContext::None).await?;
                let key =
                    Key256::from_slice(dk.expose_secret()).map_err(|_| Error::DecryptFailed)?;
                let mut buf = SecretBytes::from_slice(&blob.ciphertext);
                let n = AesGcm::new(&key)
                    .open_in_place(&iv, aad, buf.expose_secret_mut())?
                    .len();
                buf.expose_secret_mut().truncate(n);
                Ok(buf)
            },
        )
        .await
    } else {
        let ctx = WrapContext::Aad(aad.to_vec());
        let layouts = direct_layouts(blob);
        select::try_candidates(
            wrappers,
            &recorded,
            purpose,
            select::Fallback::EveryWrapper,
            |w, _| {
                let (ctx, layouts) = (&ctx, &layouts);
                let recorded = &recorded[0].key_id;
                async move {
                    for wrapped in layouts {
                        match w.unwrap(wrapped, recorded, ctx).await {
                            Err(e) if e.is_decrypt_failed() => {}
                            other => return other,
                        }
                    }
                    Err(Error::DecryptFailed)
                }
            },
        )
        .await
    }
}

/// The wrapped bytes a direct value may hold, in the order to try them: `ciphertext`, as
/// go-kms-wrapping's aead reads it (nonce ‖ ciphertext ‖ tag; it ignores `iv`), then, when
/// `iv` holds a 12-byte nonce, `iv ‖ ciphertext`: OpenBao's static seal writes the nonce in
/// `iv` and ciphertext ‖ tag in `ciphertext`. The tag decides which one it is.
fn direct_layouts(blob: &BlobInfo) -> Vec<std::borrow::Cow<'_, [u8]>> {
    let mut out = vec![std::borrow::Cow::Borrowed(blob.ciphertext.as_slice())];
    if blob.iv.len() == NONCE_LEN {
        out.push(std::borrow::Cow::Owned(
            [blob.iv.as_slice(), blob.ciphertext.as_slice()].concat(),
        ));
    }
    out
}

/// Encrypts `plaintext` for `purpose` with the keyring's (first) wrapper of that purpose, in
/// the backend's default mechanism, binding `aad`.
///
/// # Errors
/// [`Error::Config`] when the keyring has no wrapper for `purpose` or it is previous-root;
/// as [`encrypt_value`].
pub async fn encrypt(
    keyring: &Keyring,
    purpose: Purpose,
    plaintext: &[u8],
    aad: &[u8],
) -> Result<BlobInfo> {
    let wrappers = keyring.encrypt_wrappers(purpose)?;
    encrypt_value(wrappers[0], plaintext, aad, None).await
}

/// Decrypts `blob`, recorded for `purpose`, with the keyring's wrappers that may open it
/// ([`Keyring::decrypt_wrappers`]: for root, previous-root too), binding `aad`.
///
/// # Errors
/// As [`decrypt_value`].
pub async fn decrypt(
    keyring: &Keyring,
    purpose: Purpose,
    blob: &BlobInfo,
    aad: &[u8],
) -> Result<SecretBytes> {
    decrypt_value(&keyring.decrypt_wrappers(purpose), blob, aad, purpose).await
}
