//! The configured wrappers, by purpose, and the order to use them in.

use std::sync::Arc;

use kms_core::{Backend, Error, Purpose, Result};

/// The wrappers of a config (or of a program), each serving one purpose.
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    wrappers: Vec<(Purpose, Arc<dyn Backend>)>,
}

impl Keyring {
    /// An empty keyring.
    pub fn new() -> Self {
        Keyring::default()
    }

    /// Adds a wrapper for `purpose`, after those already there.
    pub fn push(&mut self, purpose: Purpose, backend: Arc<dyn Backend>) {
        self.wrappers.push((purpose, backend));
    }

    /// This keyring with a wrapper for `purpose` added.
    #[must_use]
    pub fn with(mut self, purpose: Purpose, backend: Arc<dyn Backend>) -> Self {
        self.push(purpose, backend);
        self
    }

    /// Every wrapper with its purpose, in the order added.
    pub fn all(&self) -> impl Iterator<Item = (Purpose, &dyn Backend)> {
        self.wrappers.iter().map(|(p, b)| (*p, b.as_ref()))
    }

    /// The wrappers of exactly `purpose`, in the order added.
    pub fn for_purpose(&self, purpose: Purpose) -> Vec<&dyn Backend> {
        self.wrappers
            .iter()
            .filter(|(p, _)| *p == purpose)
            .map(|(_, b)| b.as_ref())
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
    /// the purpose's own ([`Keyring::decrypt_wrappers`]), then every other wrapper, for
    /// files whose data key was also wrapped under other purposes' keys (multi-key files).
    /// Selection still matches recorded key ids, so an unrelated wrapper is only tried for
    /// an entry it may hold.
    pub fn decrypt_wrappers_all(&self, purpose: Purpose) -> Vec<&dyn Backend> {
        let mut out = self.decrypt_wrappers(purpose);
        let first = purpose.decrypt_candidates();
        out.extend(
            self.wrappers
                .iter()
                .filter(|(p, _)| !first.contains(p))
                .map(|(_, b)| b.as_ref()),
        );
        out
    }

    /// The wrappers that encrypt new data for `purpose`.
    ///
    /// # Errors
    /// [`Error::Config`] when there is no wrapper for the purpose, or when the purpose is
    /// previous-root (which only decrypts).
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
}
