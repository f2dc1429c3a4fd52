//! Token values: `hcl/strconv.Unquote` for strings and `unindentHeredoc` (hcl/token) for
//! heredocs, ported from HCL v1.0.1-vault-7.

/// A STRING token's value (`hcl/strconv.Unquote`): escapes are decoded except inside
/// `${...}`, which is kept as written. `None` where Go's Unquote fails.
pub(crate) fn unquote(text: &str) -> Option<String> {
    let s = text.strip_prefix('"')?.strip_suffix('"')?.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'$' && s.get(i + 1) == Some(&b'{') {
            out.extend_from_slice(b"${");
            i += 2;
            let mut braces = 1;
            while i < s.len() && braces > 0 {
                match s[i] {
                    b'{' => braces += 1,
                    b'}' => braces -= 1,
                    _ => {}
                }
                out.push(s[i]);
                i += 1;
            }
            if braces != 0 {
                return None;
            }
            continue;
        }
        match s[i] {
            b'\n' | b'"' => return None,
            b'\\' => {
                let c = *s.get(i + 1)?;
                i += 2;
                let simple = match c {
                    b'a' => Some(7),
                    b'b' => Some(8),
                    b'f' => Some(12),
                    b'n' => Some(b'\n'),
                    b'r' => Some(b'\r'),
                    b't' => Some(b'\t'),
                    b'v' => Some(11),
                    b'\\' => Some(b'\\'),
                    b'"' => Some(b'"'),
                    _ => None,
                };
                if let Some(b) = simple {
                    out.push(b);
                    continue;
                }
                let (n, radix) = match c {
                    b'x' => (2, 16),
                    b'u' => (4, 16),
                    b'U' => (8, 16),
                    b'0'..=b'7' => {
                        i -= 1;
                        (3, 8)
                    }
                    _ => return None,
                };
                let digits = std::str::from_utf8(s.get(i..i + n)?).ok()?;
                if !digits.chars().all(|d| d.is_digit(radix)) {
                    return None;
                }
                let v = u32::from_str_radix(digits, radix).ok()?;
                i += n;
                match c {
                    b'x' => out.push(u8::try_from(v).ok()?),
                    b'0'..=b'7' => out.push(u8::try_from(v).ok()?),
                    _ => {
                        // Go writes U+FFFD for a surrogate; above U+10FFFF is an error.
                        if v > 0x10FFFF {
                            return None;
                        }
                        let c = char::from_u32(v).unwrap_or('\u{FFFD}');
                        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                    }
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// A JSON STRING token's value: Go's `strconv.Unquote` (no `${...}` rule); an empty text
/// is JSON's `null`, whose value is "". `None` where Go's Unquote fails (Boundary stops).
pub(crate) fn go_unquote(text: &str) -> Option<String> {
    if text.is_empty() {
        return Some(String::new());
    }
    let s = text.strip_prefix('"')?.strip_suffix('"')?;
    let mut out: Vec<u8> = Vec::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '"' => return None,
            '\\' => {
                let e = chars.next()?;
                let simple = match e {
                    'a' => Some(7u8),
                    'b' => Some(8),
                    'f' => Some(12),
                    'n' => Some(b'\n'),
                    'r' => Some(b'\r'),
                    't' => Some(b'\t'),
                    'v' => Some(11),
                    '\\' => Some(b'\\'),
                    '"' => Some(b'"'),
                    _ => None,
                };
                if let Some(b) = simple {
                    out.push(b);
                    continue;
                }
                let (n, radix) = match e {
                    'x' => (2, 16),
                    'u' => (4, 16),
                    'U' => (8, 16),
                    '0'..='7' => (2, 8),
                    _ => return None,
                };
                let mut digits = String::new();
                if radix == 8 {
                    digits.push(e);
                }
                for _ in 0..n {
                    digits.push(chars.next()?);
                }
                let v = u32::from_str_radix(&digits, radix).ok()?;
                match e {
                    'u' | 'U' => {
                        let c = char::from_u32(v)?;
                        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                    }
                    _ => out.push(u8::try_from(v).ok()?),
                }
            }
            c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    String::from_utf8(out).ok()
}

/// A HEREDOC token's value (`hcl/token.unindentHeredoc`), byte arithmetic as in Go.
pub(crate) fn heredoc_value(text: &str) -> String {
    let b = text.as_bytes();
    let Some(idx) = b.iter().position(|&c| c == b'\n') else {
        return String::new();
    };
    let slice = |from: usize, to: usize| -> &[u8] {
        if from <= to {
            b.get(from..to).unwrap_or(&[])
        } else {
            &[]
        }
    };
    let lossy = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
    let plain = slice(idx + 1, (b.len() + 1).saturating_sub(idx));
    if b.get(2) != Some(&b'-') {
        return lossy(plain);
    }
    let body = lossy(slice(idx + 1, (b.len() + 2).saturating_sub(idx)));
    let lines: Vec<&str> = body.split('\n').collect();
    let prefix = lines.last().copied().unwrap_or("");
    if !lines.iter().all(|l| l.starts_with(prefix)) {
        return lossy(plain).trim_end_matches([' ', '\t']).to_owned();
    }
    let n = lines.len();
    let out: Vec<&str> = lines
        .iter()
        .enumerate()
        .map(|(k, l)| {
            if k + 1 == n {
                ""
            } else {
                l.strip_prefix(prefix).unwrap_or(l)
            }
        })
        .collect();
    out.join("\n")
}
