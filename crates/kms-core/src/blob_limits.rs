//! Bounds on a BlobInfo before it is decoded: its size, and the number of `key_purposes`,
//! the one field whose decoding grows memory (a packed varint of one byte becomes an `i32` of
//! four), so that decoding costs at most a small multiple of the input.

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

fn varint(b: &[u8], i: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*i)?;
        *i += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(v);
        }
    }
    None
}

/// Calls `f(field, wire_type, payload)` for each field of a message; for varints the payload
/// is empty. Stops at the first malformed byte.
fn for_each_field(b: &[u8], mut f: impl FnMut(u64, u64, &[u8])) {
    let mut i = 0;
    while i < b.len() {
        let Some(key) = varint(b, &mut i) else { return };
        let (field, wire) = (key >> 3, key & 7);
        let payload: &[u8] = match wire {
            0 => {
                if varint(b, &mut i).is_none() {
                    return;
                }
                &[]
            }
            1 | 5 => {
                let n = if wire == 1 { 8 } else { 4 };
                if b.len() - i < n {
                    return;
                }
                i += n;
                &[]
            }
            2 => {
                let Some(len) = varint(b, &mut i) else { return };
                let Some(end) = usize::try_from(len).ok().and_then(|l| i.checked_add(l)) else {
                    return;
                };
                if end > b.len() {
                    return;
                }
                let p = &b[i..end];
                i = end;
                p
            }
            _ => return,
        };
        f(field, wire, payload);
    }
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
