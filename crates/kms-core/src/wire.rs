//! The protobuf wire format, walked without decoding: the one check prost cannot make, that a
//! BlobInfo is a single value, and the field walk [`crate::blob_limits`] counts with.
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
    let key_info = check_message(bytes, "BlobInfo", &|field| (1..=8).contains(&field))?;
    match key_info {
        Some(inner) => check_message(inner, "KeyInfo", &|field| {
            (1..=11).contains(&field) && field != KEY_PURPOSES
        })
        .map(drop),
        None => Ok(()),
    }
}

/// Walks one message: a singular field (by `singular`) seen twice is an error. Returns the
/// body of field [`KEY_INFO`] when present (BlobInfo's nested KeyInfo).
fn check_message<'a>(
    bytes: &'a [u8],
    what: &str,
    singular: &dyn Fn(u64) -> bool,
) -> Result<Option<&'a [u8]>> {
    // Known fields only: unknown ones are allowed, and repeated ones are theirs to define.
    let mut seen = [false; 12];
    let mut twice = None;
    let mut key_info = None;
    for_each_field(bytes, |field, wire_type, body| {
        if let Ok(index) = usize::try_from(field) {
            if index < seen.len() && singular(field) {
                if seen[index] {
                    twice.get_or_insert(field);
                }
                seen[index] = true;
            }
        }
        if field == KEY_INFO && wire_type == 2 {
            key_info = Some(body);
        }
    });
    match twice {
        Some(field) => Err(Error::Malformed(format!(
            "not a single value: {what} field {field} appears twice (two values concatenated?); no writer produces this"
        ))),
        None => Ok(key_info),
    }
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

/// Calls `f(field, wire_type, payload)` for each field of a protobuf message, allocating
/// nothing; for varints and fixed-size fields the payload is empty. Stops at the first
/// malformed byte (the decoder reports those).
pub(crate) fn for_each_field<'a>(b: &'a [u8], mut f: impl FnMut(u64, u64, &'a [u8])) {
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
