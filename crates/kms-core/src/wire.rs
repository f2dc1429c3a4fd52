//! The one check prost cannot make: that a BlobInfo is a single value.
//!
//! Protobuf merges a message that repeats a singular field (the last scalar wins, messages
//! merge), so `cat a.blob b.blob` decodes as a value made of both. No writer produces one, so
//! a repeated singular field is refused.

use crate::{Error, Result};

/// BlobInfo's field holding its `KeyInfo`.
const KEY_INFO: u64 = 5;
/// KeyInfo's one repeated field (`key_purposes`).
const KEY_PURPOSES: u64 = 8;

/// Checks that no singular field of a BlobInfo, or of its KeyInfo, appears twice. Called on
/// bytes prost has already decoded; anything it cannot walk is left to that decoding.
pub(crate) fn check_single_value(bytes: &[u8]) -> Result<()> {
    check_message(bytes, "BlobInfo", &|field| (1..=8).contains(&field)).and_then(|key_info| {
        match key_info {
            Some(inner) => check_message(inner, "KeyInfo", &|field| {
                (1..=11).contains(&field) && field != KEY_PURPOSES
            })
            .map(drop),
            None => Ok(()),
        }
    })
}

/// Walks one message: a singular field (by `singular`) seen twice is an error. Returns the
/// body of field [`KEY_INFO`] when present (BlobInfo's nested KeyInfo).
fn check_message<'a>(
    mut bytes: &'a [u8],
    what: &str,
    singular: &dyn Fn(u64) -> bool,
) -> Result<Option<&'a [u8]>> {
    // Known fields only: unknown ones are allowed, and repeated ones are theirs to define.
    let mut seen = [false; 12];
    let mut key_info = None;
    while !bytes.is_empty() {
        let Some(tag) = varint(&mut bytes) else {
            return Ok(key_info);
        };
        let (field, wire_type) = (tag >> 3, tag & 7);
        let body = match wire_type {
            0 => {
                if varint(&mut bytes).is_none() {
                    return Ok(key_info);
                }
                None
            }
            1 | 5 => {
                let n = if wire_type == 1 { 8 } else { 4 };
                if bytes.len() < n {
                    return Ok(key_info);
                }
                bytes = &bytes[n..];
                None
            }
            2 => {
                let Some(len) = varint(&mut bytes).and_then(|l| usize::try_from(l).ok()) else {
                    return Ok(key_info);
                };
                if bytes.len() < len {
                    return Ok(key_info);
                }
                let (body, rest) = bytes.split_at(len);
                bytes = rest;
                Some(body)
            }
            _ => return Ok(key_info),
        };
        let Ok(index) = usize::try_from(field) else {
            continue;
        };
        if index < seen.len() && singular(field) {
            if seen[index] {
                return Err(Error::Malformed(format!(
                    "not a single value: {what} field {field} appears twice (two values concatenated?); no writer produces this"
                )));
            }
            seen[index] = true;
        }
        if field == KEY_INFO {
            key_info = body;
        }
    }
    Ok(key_info)
}

fn varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            *bytes = &bytes[i + 1..];
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::{BlobInfo, KeyInfo};

    fn blob() -> BlobInfo {
        BlobInfo {
            ciphertext: vec![1; 40],
            iv: vec![2; 12],
            key_info: Some(KeyInfo {
                key_id: "k1".into(),
                key_purposes: vec![1, 2, 3],
                ..KeyInfo::default()
            }),
            ..BlobInfo::default()
        }
    }

    #[test]
    fn one_value_passes_two_are_refused() {
        let one = blob().to_bytes();
        assert!(BlobInfo::from_bytes(&one).is_ok());
        let two = [one.clone(), one.clone()].concat();
        let e = BlobInfo::from_bytes(&two).unwrap_err().to_string();
        assert!(e.contains("not a single value"), "{e}");
        // A second KeyInfo field alone (prost would merge the two).
        let mut extra = one.clone();
        extra.extend_from_slice(&[0x2a, 0x04, 0x1a, 0x02, b'k', b'2']);
        assert!(BlobInfo::from_bytes(&extra).is_err());
        // key_purposes is repeated: unpacked entries are fine.
        let mut b = blob();
        b.key_info = None;
        let mut bytes = b.to_bytes();
        bytes.extend_from_slice(&[0x2a, 0x04, 0x40, 0x01, 0x40, 0x02]);
        assert!(BlobInfo::from_bytes(&bytes).is_ok());
    }
}
