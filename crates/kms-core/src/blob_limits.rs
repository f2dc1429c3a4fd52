//! Bounds on a BlobInfo before it is decoded: its size, and the number of `key_purposes`,
//! the one field whose decoding grows memory (a packed varint of one byte becomes an `i32` of
//! four), so that decoding costs at most a small multiple of the input.

use crate::wire::for_each_field;
use crate::{Error, Result};

/// The largest BlobInfo value accepted, encoded (16 MiB). Larger data belongs in the stream
/// format, which is processed in bounded memory.
pub const MAX_BLOB_BYTES: usize = 16 << 20;
/// The most `key_purposes` a BlobInfo may list (go-kms-wrapping defines nine).
pub const MAX_KEY_PURPOSES: usize = 64;

/// Checks `bytes` against [`MAX_BLOB_BYTES`] and [`MAX_KEY_PURPOSES`] with one pass over the
/// wire format, allocating nothing. Malformed wire data is left to the decoder to report.
pub(crate) fn check(bytes: &[u8]) -> Result<()> {
    if bytes.len() > MAX_BLOB_BYTES {
        return Err(Error::InvalidInput(format!(
            "a BlobInfo value of {} bytes is over the {} MiB cap; encrypt data this large as a stream (kms encrypt without --value)",
            bytes.len(),
            MAX_BLOB_BYTES >> 20
        )));
    }
    let mut purposes = 0usize;
    for_each_field(bytes, |field, wire, payload| {
        if field == 5 && wire == 2 {
            for_each_field(payload, |f, w, p| {
                if f == 8 {
                    purposes += match w {
                        0 => 1,
                        2 => p.iter().filter(|b| **b < 0x80).count(),
                        _ => 0,
                    };
                }
            });
        }
    });
    if purposes > MAX_KEY_PURPOSES {
        return Err(Error::Malformed(format!(
            "BlobInfo lists {purposes} key purposes (at most {MAX_KEY_PURPOSES}); not a value kms or go-kms-wrapping writes"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{BlobInfo, KeyInfo};

    #[test]
    fn packed_and_repeated_purposes_are_counted() {
        let mut b = BlobInfo {
            ciphertext: vec![1; 40],
            key_info: Some(KeyInfo {
                key_purposes: vec![1; MAX_KEY_PURPOSES],
                ..KeyInfo::default()
            }),
            ..BlobInfo::default()
        };
        check(&b.to_bytes()).unwrap();
        b.key_info.as_mut().unwrap().key_purposes.push(2);
        assert!(check(&b.to_bytes()).is_err());
        // The same purposes spread over repeated key_info fields (prost merges them).
        let half = BlobInfo {
            key_info: Some(KeyInfo {
                key_purposes: vec![1; MAX_KEY_PURPOSES / 2 + 1],
                ..KeyInfo::default()
            }),
            ..BlobInfo::default()
        }
        .to_bytes();
        let two = [half.clone(), half].concat();
        assert!(check(&two).is_err());
        assert!(check(&vec![0u8; MAX_BLOB_BYTES + 1]).is_err());
    }
}
