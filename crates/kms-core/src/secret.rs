use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// A secret byte string of any length (a data key, a plaintext value), zeroized on drop.
///
/// `Debug` prints only the length. Read it through [`SecretBytes::expose_secret`].
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Takes ownership of `bytes`; they are zeroized when this value drops.
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretBytes(Zeroizing::new(bytes))
    }

    /// Copies `bytes` into a new secret.
    pub fn from_slice(bytes: &[u8]) -> Self {
        SecretBytes::new(bytes.to_vec())
    }

    /// The secret bytes.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// Mutable access, e.g. for in-place decryption.
    pub fn expose_secret_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<u8>> for SecretBytes {
    fn from(v: Vec<u8>) -> Self {
        SecretBytes::new(v)
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes([REDACTED; {} bytes])", self.0.len())
    }
}

/// A secret string (a cloud secret key, a token), zeroized on drop. `Debug` and `Display`
/// print `[REDACTED]`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    /// Wraps a secret.
    pub fn new(s: String) -> Self {
        SecretString(Zeroizing::new(s))
    }

    /// The secret text.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl From<String> for SecretString {
    fn from(s: String) -> Self {
        SecretString::new(s)
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// A 256-bit key (an aead root key, an AES-GCM data key), zeroized on drop.
///
/// It is 32 bytes by construction. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Key256([u8; 32]);

impl Key256 {
    /// Length of the key in bytes.
    pub const LEN: usize = 32;

    /// Wraps 32 bytes of key material.
    pub fn new(bytes: [u8; 32]) -> Self {
        Key256(bytes)
    }

    /// Copies a slice that must be exactly 32 bytes long; otherwise returns its length.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, usize> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| bytes.len())?;
        Ok(Key256(arr))
    }

    /// A fresh key from the OS RNG.
    ///
    /// # Errors
    /// When the OS RNG fails.
    pub fn generate() -> crate::Result<Self> {
        let mut k = Key256([0u8; 32]);
        crate::fill_random(&mut k.0)?;
        Ok(k)
    }

    /// The key bytes.
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for Key256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key256([REDACTED])")
    }
}

/// An AES key of 128, 192 or 256 bits (an aead root key: Boundary accepts all three),
/// zeroized on drop. `Debug` shows only its size.
#[derive(Clone, PartialEq, Eq)]
pub struct AesKey(Zeroizing<Vec<u8>>);

impl AesKey {
    /// The key sizes in bytes.
    pub const LENGTHS: [usize; 3] = [16, 24, 32];

    /// Copies a slice of 16, 24 or 32 bytes; otherwise returns its length.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, usize> {
        if AesKey::LENGTHS.contains(&bytes.len()) {
            Ok(AesKey(Zeroizing::new(bytes.to_vec())))
        } else {
            Err(bytes.len())
        }
    }

    /// A fresh key of `bits` (128, 192 or 256) from the OS RNG.
    ///
    /// # Errors
    /// [`crate::Error::InvalidInput`] for another size; the RNG's error.
    pub fn generate(bits: usize) -> crate::Result<Self> {
        if !AesKey::LENGTHS.contains(&(bits / 8)) || bits % 8 != 0 {
            return Err(crate::Error::InvalidInput(format!(
                "an AES key has 128, 192 or 256 bits, not {bits}"
            )));
        }
        let mut k = Zeroizing::new(vec![0u8; bits / 8]);
        crate::fill_random(&mut k)?;
        Ok(AesKey(k))
    }

    /// The key bytes.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// The key size in bits.
    pub fn bits(&self) -> usize {
        self.0.len() * 8
    }
}

impl From<Key256> for AesKey {
    fn from(k: Key256) -> Self {
        AesKey(Zeroizing::new(k.expose_secret().to_vec()))
    }
}

impl fmt::Debug for AesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AesKey([REDACTED; {} bits])", self.bits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_bytes() {
        let s = SecretBytes::from_slice(b"hunter2-canary");
        assert_eq!(format!("{s:?}"), "SecretBytes([REDACTED; 14 bytes])");
        let k = Key256::new([0x41; 32]);
        assert_eq!(format!("{k:?}"), "Key256([REDACTED])");
        assert_eq!(format!("{k:#?}"), "Key256([REDACTED])");
    }

    #[test]
    fn aes_key_sizes() {
        for n in [16, 24, 32] {
            let k = AesKey::from_slice(&vec![7u8; n]).unwrap();
            assert_eq!(k.bits(), n * 8);
            assert_eq!(
                format!("{k:?}"),
                format!("AesKey([REDACTED; {} bits])", n * 8)
            );
            assert_eq!(AesKey::generate(n * 8).unwrap().expose_secret().len(), n);
        }
        assert_eq!(AesKey::from_slice(&[0u8; 31]).unwrap_err(), 31);
        assert!(AesKey::generate(64).is_err() && AesKey::generate(130).is_err());
    }

    #[test]
    fn key_length_is_checked() {
        assert_eq!(Key256::from_slice(&[0u8; 31]).unwrap_err(), 31);
        assert!(Key256::from_slice(&[0u8; 32]).is_ok());
    }
}
