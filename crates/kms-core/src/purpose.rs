use std::fmt;
use std::str::FromStr;

/// What a `kms` stanza's key is used for, as Boundary names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Purpose {
    /// `root`: the current root key.
    Root,
    /// `previous-root`: an older root key, used only to decrypt.
    PreviousRoot,
    /// `worker-auth`.
    WorkerAuth,
    /// `worker-auth-storage`.
    WorkerAuthStorage,
    /// `recovery`.
    Recovery,
    /// `config`: protects `{{encrypt(..)}}` values in config files.
    Config,
    /// `downstream-worker-auth`: may appear in several stanzas.
    DownstreamWorkerAuth,
    /// `bsr`: session recording.
    Bsr,
}

impl Purpose {
    /// Every purpose, in Boundary's documentation order.
    pub const ALL: [Purpose; 8] = [
        Purpose::Root,
        Purpose::PreviousRoot,
        Purpose::WorkerAuth,
        Purpose::WorkerAuthStorage,
        Purpose::Recovery,
        Purpose::Config,
        Purpose::DownstreamWorkerAuth,
        Purpose::Bsr,
    ];

    /// The name used in config files, e.g. `previous-root`.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Root => "root",
            Purpose::PreviousRoot => "previous-root",
            Purpose::WorkerAuth => "worker-auth",
            Purpose::WorkerAuthStorage => "worker-auth-storage",
            Purpose::Recovery => "recovery",
            Purpose::Config => "config",
            Purpose::DownstreamWorkerAuth => "downstream-worker-auth",
            Purpose::Bsr => "bsr",
        }
    }

    /// Whether several stanzas may name this purpose (only `downstream-worker-auth`).
    pub fn may_repeat(self) -> bool {
        self == Purpose::DownstreamWorkerAuth
    }

    /// The purposes whose wrappers may open data recorded under `self`:
    /// `root` data also opens with `previous-root` wrappers.
    pub fn decrypt_candidates(self) -> &'static [Purpose] {
        match self {
            Purpose::Root => &[Purpose::Root, Purpose::PreviousRoot],
            Purpose::PreviousRoot => &[Purpose::PreviousRoot, Purpose::Root],
            Purpose::WorkerAuth => &[Purpose::WorkerAuth],
            Purpose::WorkerAuthStorage => &[Purpose::WorkerAuthStorage],
            Purpose::Recovery => &[Purpose::Recovery],
            Purpose::Config => &[Purpose::Config],
            Purpose::DownstreamWorkerAuth => &[Purpose::DownstreamWorkerAuth],
            Purpose::Bsr => &[Purpose::Bsr],
        }
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A purpose name that is not one of [`Purpose::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown purpose {given:?} (valid: root, previous-root, worker-auth, worker-auth-storage, recovery, config, downstream-worker-auth, bsr)")]
pub struct ParsePurposeError {
    /// The text that was given, trimmed and lower-cased.
    pub given: String,
}

impl FromStr for Purpose {
    type Err = ParsePurposeError;

    /// Parses a purpose name; surrounding white space and case are ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase();
        Purpose::ALL
            .into_iter()
            .find(|p| p.as_str() == norm)
            .ok_or(ParsePurposeError { given: norm })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Purpose::ALL {
            assert_eq!(p.as_str().parse::<Purpose>(), Ok(p));
            assert_eq!(
                format!(" {} ", p.as_str().to_uppercase()).parse::<Purpose>(),
                Ok(p)
            );
        }
        assert_eq!("rooot".parse::<Purpose>().unwrap_err().given, "rooot");
    }

    #[test]
    fn only_downstream_worker_auth_repeats() {
        let repeating: Vec<_> = Purpose::ALL
            .into_iter()
            .filter(|p| p.may_repeat())
            .collect();
        assert_eq!(repeating, vec![Purpose::DownstreamWorkerAuth]);
    }
}
