//! A small JSON reader that keeps the byte offset of every value, so that JSON configs get
//! line numbers too. It runs only on text serde_json has accepted, which also bounds the
//! nesting depth (serde_json allows 128 levels); it still never panics on other input, and
//! gives `None` for anything it does not understand.

use super::Val;

/// A JSON value. Object members keep their order and duplicates.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum J {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<Spanned>),
    Obj(Vec<(String, Spanned)>),
}

/// A value and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Spanned {
    pub(crate) offset: usize,
    pub(crate) value: J,
}

impl J {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            J::Null => "null",
            J::Bool(_) => "a bool",
            J::Num(_) => "a number",
            J::Str(_) => "a string",
            J::Arr(_) => "a list",
            J::Obj(_) => "an object",
        }
    }

    /// The value as HCL v1's JSON reader and decoding give it: `null` is an empty string,
    /// numbers are read as Go reads them (an integer, or a float if written with `.` or an
    /// exponent), and a list skips its bools (HCL v1's JSON list parser drops them).
    pub(crate) fn to_val(&self) -> Val {
        match self {
            J::Null => Val::Str(String::new()),
            J::Bool(b) => Val::Bool(*b),
            J::Num(n) if n.contains(['.', 'e', 'E']) => n
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map_or(Val::Other(BAD_NUMBER), |f| Val::Num(format!("{f}"))),
            J::Num(n) => n
                .parse::<i64>()
                .map_or(Val::Other(BAD_NUMBER), |i| Val::Num(i.to_string())),
            J::Str(s) => Val::Str(s.clone()),
            J::Arr(a) => Val::List(
                a.iter()
                    .filter(|v| !matches!(v.value, J::Bool(_)))
                    .map(|v| match v.value {
                        J::Null => Val::Other("null in a list"),
                        J::Arr(_) => Val::Other("a list in a list"),
                        ref other => other.to_val(),
                    })
                    .collect(),
            ),
            J::Obj(_) => Val::Other("an object"),
        }
    }
}

const BAD_NUMBER: &str = "a number out of range";

/// The byte offset of the first `\/` escape in a string: JSON allows it, HCL v1's JSON
/// scanner does not. Only for text serde_json has accepted.
pub(crate) fn slash_escape(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let (mut i, mut in_string) = (0, false);
    while i < b.len() {
        match (in_string, b[i]) {
            (true, b'\\') => {
                if b.get(i + 1) == Some(&b'/') {
                    return Some(i);
                }
                i += 1;
            }
            (_, b'"') => in_string = !in_string,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Deeper than serde_json's own limit: never reached on text it accepted.
const MAX_DEPTH: usize = 200;

/// Parses a whole JSON text.
pub(crate) fn parse(text: &str) -> Option<Spanned> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
    };
    let v = p.value(0)?;
    p.ws();
    (p.pos == p.s.len()).then_some(v)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while matches!(self.s.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        self.ws();
        if self.s.get(self.pos) == Some(&b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Option<Spanned> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        let offset = self.pos;
        let value = match *self.s.get(self.pos)? {
            b'{' => {
                self.pos += 1;
                let mut members = Vec::new();
                if !self.eat(b'}') {
                    loop {
                        self.ws();
                        let key = self.string()?;
                        if !self.eat(b':') {
                            return None;
                        }
                        members.push((key, self.value(depth + 1)?));
                        if self.eat(b'}') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
                J::Obj(members)
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                if !self.eat(b']') {
                    loop {
                        items.push(self.value(depth + 1)?);
                        if self.eat(b']') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
                J::Arr(items)
            }
            b'"' => J::Str(self.string()?),
            b't' => self.word("true", J::Bool(true))?,
            b'f' => self.word("false", J::Bool(false))?,
            b'n' => self.word("null", J::Null)?,
            b'-' | b'0'..=b'9' => {
                let start = self.pos;
                while matches!(
                    self.s.get(self.pos),
                    Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                ) {
                    self.pos += 1;
                }
                J::Num(self.text.get(start..self.pos)?.to_owned())
            }
            _ => return None,
        };
        Some(Spanned { offset, value })
    }

    fn word(&mut self, w: &str, v: J) -> Option<J> {
        if self.s.get(self.pos..self.pos + w.len())? == w.as_bytes() {
            self.pos += w.len();
            Some(v)
        } else {
            None
        }
    }

    /// A string token; serde_json decodes its escapes.
    fn string(&mut self) -> Option<String> {
        if self.s.get(self.pos) != Some(&b'"') {
            return None;
        }
        let start = self.pos;
        self.pos += 1;
        loop {
            match *self.s.get(self.pos)? {
                b'\\' => self.pos += 2,
                b'"' => break,
                _ => self.pos += 1,
            }
        }
        self.pos += 1;
        serde_json::from_str(self.text.get(start..self.pos)?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_escapes() {
        let v = parse(" {\"a\\\"b\": [1, -2.5e3, true, null, \"\\u00e9\\n\"], \"a\\\"b\": {}}")
            .unwrap_or_else(|| panic!("parse"));
        assert_eq!(v.offset, 1);
        let J::Obj(m) = v.value else { panic!("object") };
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].0, "a\"b");
        assert_eq!(m[0].1.offset, 10);
        let J::Arr(a) = &m[0].1.value else {
            panic!("array")
        };
        let vals: Vec<_> = a.iter().map(|s| s.value.clone()).collect();
        assert_eq!(
            vals,
            [
                J::Num("1".into()),
                J::Num("-2.5e3".into()),
                J::Bool(true),
                J::Null,
                J::Str("é\n".into())
            ]
        );
    }

    #[test]
    fn rejects_without_panicking() {
        for bad in [
            "",
            "{",
            "[1,",
            "\"abc",
            "\"\\",
            "tru",
            "{\"a\" 1}",
            "[1 2]",
            "{} x",
            "@",
            "{\"é\":\"\\ud800\"}",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        let deep = "[".repeat(300) + &"]".repeat(300);
        assert_eq!(parse(&deep), None);
    }
}
