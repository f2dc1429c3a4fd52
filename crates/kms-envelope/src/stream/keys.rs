//! File keys: the data key sealed under each wrapper, opened by one of them, and the keys
//! derived from it (payload key, MAC key, commitment).

use hkdf::Hkdf;
use kms_core::cipher::{AesGcm, NONCE_LEN};
use kms_core::{Backend, BackendKind, Error, Key256, Purpose, Result};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::header::{Header, WrappedKeyEntry};
use super::{
    HKDF_INFO, MAX_ENTRIES, MAX_KEY_ID_LEN, MAX_KIND_LEN, MAX_WRAPPED_LEN, PREFIX_LEN, SALT_LEN,
    SEGMENT_SIZE_RANGE,
};
use crate::select;

/// Keys derived for one file. Zeroized on drop.
pub(super) struct FileKeys {
    pub(super) payload: AesGcm,
    pub(super) mac_key: Zeroizing<[u8; 32]>,
    pub(super) commitment: [u8; 32],
}

impl FileKeys {
    fn derive(data_key: &[u8], salt: &[u8; SALT_LEN]) -> Result<FileKeys> {
        if data_key.len() != Key256::LEN {
            return Err(Error::DecryptFailed);
        }
        let mut okm = Zeroizing::new([0u8; 96]);
        Hkdf::<Sha256>::new(Some(salt), data_key)
            .expand(HKDF_INFO, okm.as_mut())
            .map_err(|_| Error::Internal("HKDF expand".into()))?;
        let payload =
            Key256::from_slice(&okm[..32]).map_err(|_| Error::Internal("HKDF length".into()))?;
        let mut mac_key = Zeroizing::new([0u8; 32]);
        mac_key.copy_from_slice(&okm[32..64]);
        let mut commitment = [0u8; 32];
        commitment.copy_from_slice(&okm[64..]);
        Ok(FileKeys {
            payload: AesGcm::new(&payload),
            mac_key,
            commitment,
        })
    }
}

/// The keys needed to process a file's body, after its header was sealed or opened.
pub struct StreamKey {
    pub(super) keys: FileKeys,
    pub(super) nonce_prefix: [u8; PREFIX_LEN],
    pub(super) segment_size: usize,
}

impl std::fmt::Debug for StreamKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamKey")
            .field("segment_size", &self.segment_size)
            .finish_non_exhaustive()
    }
}

/// Creates a header for new data: a fresh data key wrapped by each of `wrappers` (the first
/// is the primary), bound to `purpose` and the file id; `aad` is bound through the MAC.
///
/// # Errors
/// Backend errors from wrapping; [`Error::InvalidInput`] for no wrappers or a bad segment size.
pub async fn seal_header(
    wrappers: &[&dyn Backend],
    purpose: Purpose,
    aad: &[u8],
    segment_size: u32,
) -> Result<(Header, StreamKey)> {
    if wrappers.is_empty() || wrappers.len() > MAX_ENTRIES {
        return Err(Error::InvalidInput(format!(
            "a stream needs 1 to {MAX_ENTRIES} wrappers, got {}",
            wrappers.len()
        )));
    }
    if !SEGMENT_SIZE_RANGE.contains(&segment_size) {
        return Err(Error::InvalidInput(format!(
            "segment size {segment_size} out of range"
        )));
    }
    let data_key = Key256::generate()?;
    let salt: [u8; SALT_LEN] = kms_core::random_array()?;
    let nonce_prefix: [u8; PREFIX_LEN] = kms_core::random_array()?;
    let keys = FileKeys::derive(data_key.expose_secret(), &salt)?;
    let mut header = Header {
        segment_size,
        salt,
        nonce_prefix,
        purpose,
        aad_bound: !aad.is_empty(),
        entries: Vec::new(),
        commitment: keys.commitment,
        mac: [0; 32],
    };
    let ctx = header.wrap_context();
    for w in wrappers {
        let wrapped = w.wrap(data_key.expose_secret(), &ctx).await?;
        header.entries.push(entry_for(w.kind(), wrapped)?);
    }
    header.mac = header.compute_mac(&keys.mac_key, aad)?;
    Ok((
        header,
        StreamKey {
            keys,
            nonce_prefix,
            segment_size: segment_size as usize,
        },
    ))
}

/// Builds a header entry from a backend's wrap result, checking the format's limits.
///
/// # Errors
/// [`Error::InvalidInput`] when the kind, key id or wrapped bytes do not fit.
pub fn entry_for(kind: BackendKind, wrapped: kms_core::Wrapped) -> Result<WrappedKeyEntry> {
    let key_id = wrapped.key_id;
    if kind.as_str().is_empty()
        || kind.as_str().len() > MAX_KIND_LEN
        || key_id.as_str().len() > MAX_KEY_ID_LEN
        || wrapped.bytes.is_empty()
        || wrapped.bytes.len() > MAX_WRAPPED_LEN
    {
        return Err(Error::InvalidInput(format!(
            "backend {kind} returned a key id or wrapped key that does not fit the stream format"
        )));
    }
    Ok(WrappedKeyEntry {
        kind,
        key_id,
        wrapped: wrapped.bytes,
    })
}

/// Opens a header with the first of `wrappers` that unwraps one of its entries, then checks
/// the key commitment and the header MAC (over `aad`).
///
/// # Errors
/// [`Error::DecryptFailed`] when the commitment or MAC does not match (tampered header, wrong
/// AAD); [`Error::InvalidInput`] when AAD is given for a file without or missing for one with;
/// selection errors from [`select::try_candidates`].
pub async fn open_header(
    header: &Header,
    wrappers: &[&dyn Backend],
    aad: &[u8],
) -> Result<StreamKey> {
    if header.aad_bound && aad.is_empty() {
        return Err(Error::InvalidInput(
            "this file was encrypted with AAD; give the same --aad to decrypt it".into(),
        ));
    }
    if !header.aad_bound && !aad.is_empty() {
        return Err(Error::InvalidInput(
            "this file was encrypted without AAD; --aad must not be given".into(),
        ));
    }
    let keys = unwrap_file_keys(header, wrappers).await?;
    let mac = header.compute_mac(&keys.mac_key, aad)?;
    if !bool::from(mac.ct_eq(&header.mac)) {
        return Err(Error::DecryptFailed);
    }
    Ok(StreamKey {
        keys,
        nonce_prefix: header.nonce_prefix,
        segment_size: header.segment_size as usize,
    })
}

/// Unwraps the data key of `header` with the first of `wrappers` that can, checking it
/// against the key commitment. Rewrap uses this to move a file to another key without
/// touching its body; it does not check the header MAC (that needs the AAD).
///
/// # Errors
/// As [`open_header`].
pub async fn unwrap_data_key(
    header: &Header,
    wrappers: &[&dyn Backend],
) -> Result<kms_core::SecretBytes> {
    let ctx = header.wrap_context();
    let recorded = header.recorded();
    select::try_candidates(
        wrappers,
        &recorded,
        header.purpose,
        select::Fallback::Matching,
        |w, i| {
            let ctx = &ctx;
            let recorded = &recorded;
            async move {
                let dk = w
                    .unwrap(&header.entries[i].wrapped, &recorded[i].key_id, ctx)
                    .await?;
                let keys = FileKeys::derive(dk.expose_secret(), &header.salt)?;
                // A key that unwraps but does not match the commitment is not this file's key.
                if !bool::from(keys.commitment.ct_eq(&header.commitment)) {
                    return Err(Error::DecryptFailed);
                }
                Ok(dk)
            }
        },
    )
    .await
}

async fn unwrap_file_keys(header: &Header, wrappers: &[&dyn Backend]) -> Result<FileKeys> {
    let dk = unwrap_data_key(header, wrappers).await?;
    FileKeys::derive(dk.expose_secret(), &header.salt)
}

impl StreamKey {
    /// The body keys of `header`'s file from its data key (already checked against the key
    /// commitment by [`unwrap_data_key`]).
    pub(crate) fn from_data_key(header: &Header, data_key: &[u8]) -> Result<StreamKey> {
        Ok(StreamKey {
            keys: FileKeys::derive(data_key, &header.salt)?,
            nonce_prefix: header.nonce_prefix,
            segment_size: header.segment_size as usize,
        })
    }

    /// [`StreamKey::from_data_key`], also checking the header MAC when the file binds no AAD
    /// (a file with AAD can only be checked with it, by decrypt).
    pub(crate) fn from_data_key_checked(header: &Header, data_key: &[u8]) -> Result<StreamKey> {
        let key = StreamKey::from_data_key(header, data_key)?;
        if !header.aad_bound {
            let mac = header.compute_mac(&key.keys.mac_key, b"")?;
            if !bool::from(mac.ct_eq(&header.mac)) {
                return Err(Error::DecryptFailed);
            }
        }
        Ok(key)
    }

    pub(super) fn nonce(&self, counter: u64, last: bool) -> Result<[u8; NONCE_LEN]> {
        let counter = u32::try_from(counter)
            .map_err(|_| Error::InvalidInput("stream exceeds 2^32 segments".into()))?;
        let mut n = [0u8; NONCE_LEN];
        n[..PREFIX_LEN].copy_from_slice(&self.nonce_prefix);
        n[PREFIX_LEN..PREFIX_LEN + 4].copy_from_slice(&counter.to_be_bytes());
        n[NONCE_LEN - 1] = u8::from(last);
        Ok(n)
    }
}
