//! The transit ciphertext `vault:vN:BASE64` and the context digest of wrapped keys
//! (docs/FORMAT.md).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use kms_core::{Error, Result, WrapContext};
use sha2::{Digest, Sha256};

use crate::DIGEST_LEN;

/// The key version in a transit ciphertext `vault:vN:...`; `None` when it is not one.
pub fn ciphertext_version(ct: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(ct).ok()?;
    let mut parts = s.splitn(3, ':');
    let (_, v, _) = (parts.next()?, parts.next()?, parts.next()?);
    let n = v.strip_prefix('v')?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// What a secret is bound to when wrapped with no AAD: SHA-256 of the context's canonical
/// bytes ([`WrapContext::to_aad`]; empty for [`WrapContext::None`]).
pub(crate) fn context_digest(context: &WrapContext) -> [u8; DIGEST_LEN] {
    Sha256::digest(context.to_aad()).into()
}

pub(crate) fn as_ciphertext(wrapped: &[u8]) -> Result<&str> {
    // Sent verbatim, as go-kms-wrapping does; what is not a transit ciphertext cannot open.
    // The body must be canonical base64, as the server writes it: Go's decoder ignores
    // padding bits, so a changed bit there would otherwise still open.
    match std::str::from_utf8(wrapped) {
        Ok(s)
            if ciphertext_version(wrapped).is_some()
                && s.splitn(3, ':')
                    .nth(2)
                    .is_some_and(|body| B64.decode(body).is_ok()) =>
        {
            Ok(s)
        }
        _ => Err(Error::DecryptFailed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(ciphertext_version(b"vault:v1:abc"), Some(1));
        assert_eq!(ciphertext_version(b"vault:v12:a:b"), Some(12));
        assert_eq!(ciphertext_version(b"vault:v:abc"), None);
        assert_eq!(ciphertext_version(b"vault:1:abc"), None);
        assert_eq!(ciphertext_version(b"vault:v1"), None);
        assert_eq!(ciphertext_version(b"\xff:v1:a"), None);
    }

    #[test]
    fn digests_differ_by_context() {
        let none = context_digest(&WrapContext::None);
        let pairs = context_digest(&WrapContext::pairs([("purpose", "root")]));
        assert_ne!(none, pairs);
        assert_eq!(none, <[u8; 32]>::from(Sha256::digest(b"")));
    }
}
