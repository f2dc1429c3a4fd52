//! The configured wrappers by purpose, and which of them encrypt or may decrypt.

use std::sync::Arc;

use kms_core::{Backend, Error, Purpose, Result};

/// One configured wrapper: a backend serving a purpose.
#[derive(Debug, Clone)]
pub struct KeyringEntry {
    /// The purpose it serves.
    pub purpose: Purpose,
    /// The backend.
    pub backend: Arc<dyn Backend>,
}

/// The configured wrappers, by purpose, in configuration order.
///
/// ```
/// use std::sync::Arc;
/// use kms_envelope::{Key256, Keyring, Purpose};
///
/// let mut keyring = Keyring::new();
/// keyring.push(Purpose::Root, Arc::new(kms_aead::AeadBackend::new(Key256::generate()?, "root-2")));
/// keyring.push(Purpose::PreviousRoot, Arc::new(kms_aead::AeadBackend::new(Key256::generate()?, "root-1")));
/// assert_eq!(keyring.encrypt_wrappers(Purpose::Root)?.len(), 1);
/// assert_eq!(keyring.decrypt_wrappers(Purpose::Root).len(), 2);
/// assert!(keyring.encrypt_wrappers(Purpose::PreviousRoot).is_err());
/// # Ok::<(), kms_envelope::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    wrappers: Vec<KeyringEntry>,
}

impl Keyring {
    /// An empty keyring.
    pub fn new() -> Keyring {
        Keyring::default()
    }

    /// Adds `backend` as a wrapper of `purpose`, after those already added.
    pub fn push(&mut self, purpose: Purpose, backend: Arc<dyn Backend>) {
        self.wrappers.push(KeyringEntry { purpose, backend });
    }

    /// Every wrapper, in the order added.
    pub fn all(&self) -> &[KeyringEntry] {
        &self.wrappers
    }

    /// The wrappers of exactly `purpose`, in order.
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
    /// the purpose's own ([`Keyring::decrypt_wrappers`]), then every other wrapper in order,
    /// for files whose data key was also wrapped under other purposes' keys (multi-key
    /// files). Selection still matches recorded key ids, so an unrelated wrapper is only
    /// tried for an entry it may hold.
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
    /// (multi-key wrapping: any one of them can open the data), each wrapper once: the same
    /// `Arc` pushed for several purposes is one wrapper.
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
                // The same wrapper (one stanza serving several purposes) is listed once. Two
                // wrappers are two entries even when their kind and key id agree: two aead
                // stanzas may share a key_id (or have none) and hold different keys.
                if !out.iter().any(|o| std::ptr::addr_eq(*o, w)) {
                    out.push(w);
                }
            }
        }
        Ok(out)
    }

    /// The wrappers that encrypt new data for `purpose`.
    ///
    /// # Errors
    /// [`Error::Config`] when the keyring has no wrapper for the purpose, or when the purpose
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
                "the config has no kms stanza with purpose \"{purpose}\"; add one, or choose a purpose it has"
            )));
        }
        Ok(ws)
    }
}

impl FromIterator<(Purpose, Arc<dyn Backend>)> for Keyring {
    fn from_iter<I: IntoIterator<Item = (Purpose, Arc<dyn Backend>)>>(iter: I) -> Keyring {
        let mut k = Keyring::new();
        for (p, b) in iter {
            k.push(p, b);
        }
        k
    }
}
