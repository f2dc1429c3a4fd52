//! `--shard I/N`: a deterministic share of the paths, so that N machines split one tree with
//! no coordination and together cover every path exactly once.
//!
//! A path belongs to shard I (1-based) when the first 8 bytes of the SHA-256 of its key,
//! read as a big-endian u64, are I - 1 modulo N. The key is the path's bytes relative to the
//! root it was found under (`-r DIR`: `sub/a.kms` for `DIR/sub/a.kms`, whatever DIR is called
//! or mounted as); a file given as an argument is its own key, as given (normalised: repeated
//! and trailing slashes and inner `.` components dropped). SHA-256 rather than Rust's hasher,
//! which is randomised per process and may change between versions. docs/SCALE.md has the
//! arithmetic.

use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use sha2::{Digest, Sha256};

/// Shard `index` (1-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shard {
    index: u64,
    count: u64,
}

impl Shard {
    /// Whether the path with shard key `key` is this shard's.
    pub(crate) fn owns(&self, key: &Path) -> bool {
        self.count == 1 || shard_of(key, self.count) == self.index
    }

    pub(crate) fn is_all(&self) -> bool {
        self.count == 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The shard (1-based) of `count` that a path with key `key` belongs to.
pub(crate) fn shard_of(key: &Path, count: u64) -> u64 {
    let normal: std::path::PathBuf = key.components().collect();
    let digest = Sha256::digest(normal.as_os_str().as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % count + 1
}

/// Parses `I/N` (clap's value parser): 1 <= I <= N.
pub(crate) fn parse(s: &str) -> Result<Shard, String> {
    let bad = || format!("{s:?}: expected I/N with 1 <= I <= N, e.g. 1/4 (shard 1 of 4)");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let index: u64 = i.trim().parse().map_err(|_| bad())?;
    let count: u64 = n.trim().parse().map_err(|_| bad())?;
    if index == 0 || count == 0 || index > count {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!(parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "1/0", "1", "a/b", "-1/4", "1/4/2", ""] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_hash_is_pinned() {
        // SHA-256("sub/a.kms") starts 7a bf 70 a2 c7 e4 3e 83 (python3 hashlib): pinned, since a
        // change of hash would move files between the shards of a fleet mid-run.
        assert_eq!(shard_of(Path::new("sub/a.kms"), 7), 3);
        assert_eq!(shard_of(Path::new("sub/a.kms"), 1000), 548);
        assert_eq!(shard_of(Path::new("a.kms"), 1000), 331);
        assert_eq!(shard_of(Path::new("sub//./a.kms/"), 1000), 548);
        assert_eq!(shard_of(Path::new("sub/a.kms"), 1), 1);
    }

    #[test]
    fn shards_partition_the_paths() {
        let n = 5;
        let mut seen = vec![0usize; n as usize];
        for i in 0..2000 {
            let key = format!("d{}/f{i}.kms", i % 13);
            let owners: Vec<u64> = (1..=n)
                .filter(|&k| parse(&format!("{k}/{n}")).is_ok_and(|s| s.owns(Path::new(&key))))
                .collect();
            assert_eq!(owners.len(), 1, "{key}: {owners:?}");
            seen[(owners[0] - 1) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| c > 0), "{seen:?}");
    }
}
