use std::borrow::Cow;
use std::fmt;

/// A backend kind, as written in a `kms "TYPE"` stanza and recorded in stream headers:
/// `aead`, `awskms`, `transit`.
///
/// Backends name theirs with [`BackendKind::from_static`]; kinds read from data (a stream
/// header may name a kind this build lacks) are owned.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BackendKind(Cow<'static, str>);

impl BackendKind {
    /// A kind known at compile time.
    pub const fn from_static(kind: &'static str) -> Self {
        BackendKind(Cow::Borrowed(kind))
    }

    /// A kind read from data or a config.
    pub fn new(kind: impl Into<String>) -> Self {
        BackendKind(Cow::Owned(kind.into()))
    }

    /// The kind's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq<str> for BackendKind {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for BackendKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl From<&str> for BackendKind {
    fn from(s: &str) -> Self {
        BackendKind::new(s)
    }
}

impl From<String> for BackendKind {
    fn from(s: String) -> Self {
        BackendKind::new(s)
    }
}

impl AsRef<str> for BackendKind {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}
