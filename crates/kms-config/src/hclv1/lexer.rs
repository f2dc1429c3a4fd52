//! HCL v1's scanner (`hcl/scanner`, `hcl/strconv` and heredoc unindenting from `hcl/token`
//! at v1.0.1-vault-7), ported token for token, quirks included: its number, escape,
//! heredoc and comment rules decide what Boundary accepts. It stops at the first error.

use super::{Pos, SyntaxError};

/// A token kind, named as HCL v1 names them in its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Eof,
    Ident,
    Number,
    Float,
    Bool,
    String,
    /// A string from a JSON file (or its `null`, with no text): Go's `strconv.Unquote`.
    JsonString,
    Heredoc,
    LBrack,
    LBrace,
    Comma,
    Period,
    RBrack,
    RBrace,
    Assign,
    Add,
    Sub,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Eof => "EOF",
            Kind::Ident => "IDENT",
            Kind::Number => "NUMBER",
            Kind::Float => "FLOAT",
            Kind::Bool => "BOOL",
            Kind::String | Kind::JsonString => "STRING",
            Kind::Heredoc => "HEREDOC",
            Kind::LBrack => "LBRACK",
            Kind::LBrace => "LBRACE",
            Kind::Comma => "COMMA",
            Kind::Period => "PERIOD",
            Kind::RBrack => "RBRACK",
            Kind::RBrace => "RBRACE",
            Kind::Assign => "ASSIGN",
            Kind::Add => "ADD",
            Kind::Sub => "SUB",
        }
    }
}

/// A token: its kind, its text as written, and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) kind: Kind,
    pub(crate) text: String,
    pub(crate) pos: Pos,
}

/// Go's scanner returns NUL as its end-of-input marker.
const EOF: char = '\0';

#[derive(Clone, Copy)]
struct At {
    idx: usize,
    line: usize,
    col: usize,
}

pub(crate) struct Lexer {
    src: Vec<char>,
    at: At,
    prev: At,
    /// The column of the last character of the previous line, for positions just after a
    /// new line (Go's `lastLineLen`).
    last_line_len: usize,
}

type Res<T> = Result<T, SyntaxError>;

impl Lexer {
    /// `text` must already have its `\r\n` turned into `\n`, as HCL v1's parser does.
    pub(crate) fn new(text: &str) -> Self {
        let at = At {
            idx: 0,
            line: 1,
            col: 0,
        };
        Lexer {
            src: text.chars().collect(),
            at,
            prev: at,
            last_line_len: 0,
        }
    }

    /// Where the last character read is, for errors (Go's `recentPosition`).
    fn here(&self) -> Pos {
        if self.at.col > 0 {
            Pos::new(self.at.line, self.at.col)
        } else if self.last_line_len > 0 {
            Pos::new(self.at.line.saturating_sub(1).max(1), self.last_line_len)
        } else {
            Pos::new(1, 1)
        }
    }

    fn err<T>(&self, message: &str) -> Res<T> {
        Err(SyntaxError {
            pos: self.here(),
            message: message.to_owned(),
        })
    }

    fn next(&mut self) -> Res<char> {
        let Some(&c) = self.src.get(self.at.idx) else {
            self.at.col += 1;
            return Ok(EOF);
        };
        self.prev = self.at;
        self.at.idx += 1;
        self.at.col += 1;
        if c == '\n' {
            self.at.line += 1;
            self.last_line_len = self.at.col;
            self.at.col = 0;
        }
        match c {
            '\0' => self.err("unexpected null character (0x00)"),
            '\u{E123}' => self.err("unicode code point U+E123 reserved for internal use"),
            c => Ok(c),
        }
    }

    fn unread(&mut self) {
        self.at = self.prev;
    }

    fn peek(&self) -> char {
        self.src.get(self.at.idx).copied().unwrap_or(EOF)
    }

    /// The next token, comments skipped.
    pub(crate) fn scan(&mut self) -> Res<Token> {
        loop {
            let (t, comment) = self.scan_one()?;
            if !comment {
                return Ok(t);
            }
        }
    }

    fn scan_one(&mut self) -> Res<(Token, bool)> {
        let mut ch = self.next()?;
        while matches!(ch, ' ' | '\t' | '\n' | '\r') {
            ch = self.next()?;
        }
        let start = self.at.idx.saturating_sub(usize::from(ch != EOF));
        let pos = if self.at.col > 0 {
            Pos::new(self.at.line, self.at.col)
        } else {
            Pos::new(self.at.line.saturating_sub(1).max(1), self.last_line_len)
        };
        let mut comment = false;
        let kind = if is_letter(ch) {
            self.scan_identifier()?;
            let text: String = self.text(start);
            if text == "true" || text == "false" {
                Kind::Bool
            } else {
                Kind::Ident
            }
        } else if ch.is_ascii_digit() {
            self.scan_number(ch)?
        } else {
            match ch {
                EOF => Kind::Eof,
                '"' => {
                    self.scan_string()?;
                    Kind::String
                }
                '#' | '/' => {
                    self.scan_comment(ch)?;
                    comment = true;
                    Kind::Eof
                }
                '.' => {
                    if self.peek().is_ascii_digit() {
                        let c = self.scan_mantissa(self.peek())?;
                        self.scan_exponent(c)?;
                        Kind::Float
                    } else {
                        Kind::Period
                    }
                }
                '<' => {
                    self.scan_heredoc()?;
                    Kind::Heredoc
                }
                '[' => Kind::LBrack,
                ']' => Kind::RBrack,
                '{' => Kind::LBrace,
                '}' => Kind::RBrace,
                ',' => Kind::Comma,
                '=' => Kind::Assign,
                '+' => Kind::Add,
                '-' if self.peek().is_ascii_digit() => {
                    let c = self.next()?;
                    self.scan_number(c)?
                }
                '-' => Kind::Sub,
                _ => return self.err("illegal char"),
            }
        };
        let text = self.text(start);
        Ok((Token { kind, text, pos }, comment))
    }

    fn text(&self, start: usize) -> String {
        self.src
            .get(start..self.at.idx)
            .map(|s| s.iter().collect())
            .unwrap_or_default()
    }

    fn scan_comment(&mut self, ch: char) -> Res<()> {
        if ch == '#' || (ch == '/' && self.peek() != '*') {
            if ch == '/' && self.peek() != '/' {
                return self.err("expected '/' for comment");
            }
            let mut ch = self.next()?;
            while ch != '\n' && ch != EOF {
                ch = self.next()?;
            }
            if ch != EOF {
                self.unread();
            }
            return Ok(());
        }
        self.next()?;
        let mut ch = self.next()?;
        loop {
            if ch == EOF {
                return self.err("comment not terminated");
            }
            let ch0 = ch;
            ch = self.next()?;
            if ch0 == '*' && ch == '/' {
                return Ok(());
            }
        }
    }

    fn scan_number(&mut self, ch: char) -> Res<Kind> {
        if ch == '0' {
            let mut ch = self.next()?;
            if ch == 'x' || ch == 'X' {
                ch = self.next()?;
                let mut found = false;
                while ch.is_ascii_hexdigit() {
                    ch = self.next()?;
                    found = true;
                }
                if !found {
                    return self.err("illegal hexadecimal number");
                }
                if ch != EOF {
                    self.unread();
                }
                return Ok(Kind::Number);
            }
            let mut illegal_octal = false;
            while ch.is_ascii_digit() {
                ch = self.next()?;
                if ch == '8' || ch == '9' {
                    illegal_octal = true;
                }
            }
            if self.float_tail(ch)? {
                return Ok(Kind::Float);
            }
            if illegal_octal {
                return self.err("illegal octal number");
            }
            if ch != EOF {
                self.unread();
            }
            return Ok(Kind::Number);
        }
        self.scan_mantissa(ch)?;
        let ch = self.next()?;
        if self.float_tail(ch)? {
            return Ok(Kind::Float);
        }
        if ch != EOF {
            self.unread();
        }
        Ok(Kind::Number)
    }

    fn scan_mantissa(&mut self, mut ch: char) -> Res<char> {
        let mut scanned = false;
        while ch.is_ascii_digit() {
            ch = self.next()?;
            scanned = true;
        }
        if scanned && ch != EOF {
            self.unread();
        }
        Ok(ch)
    }

    /// After a '.'.
    /// After a mantissa, `ch` starting an exponent or a fraction makes the number a float;
    /// consumes them and returns true.
    fn float_tail(&mut self, ch: char) -> Res<bool> {
        if ch == 'e' || ch == 'E' {
            self.scan_exponent(ch)?;
            return Ok(true);
        }
        if ch == '.' {
            let ch = self.scan_fraction()?;
            if ch == 'e' || ch == 'E' {
                let ch = self.next()?;
                self.scan_exponent(ch)?;
            }
            return Ok(true);
        }
        Ok(false)
    }

    fn scan_fraction(&mut self) -> Res<char> {
        let ch = self.peek();
        self.scan_mantissa(ch)
    }

    fn scan_exponent(&mut self, ch: char) -> Res<char> {
        if ch == 'e' || ch == 'E' {
            let mut ch = self.next()?;
            if ch == '-' || ch == '+' {
                ch = self.next()?;
            }
            return self.scan_mantissa(ch);
        }
        Ok(ch)
    }

    fn scan_heredoc(&mut self) -> Res<()> {
        if self.next()? != '<' {
            return self.err("heredoc expected second '<', didn't see it");
        }
        let offs = self.at.idx;
        let mut ch = self.next()?;
        if ch == '-' {
            ch = self.next()?;
        }
        while is_letter(ch) || is_digit(ch) {
            ch = self.next()?;
        }
        if ch == EOF {
            return self.err("heredoc not terminated");
        }
        if ch != '\n' {
            return self.err("invalid characters in heredoc anchor");
        }
        let ident: Vec<char> = self
            .src
            .get(offs..self.at.idx.saturating_sub(1))
            .unwrap_or(&[])
            .to_vec();
        if ident.is_empty() || ident == ['-'] {
            return self.err("zero-length heredoc anchor");
        }
        let anchor: &[char] = ident.strip_prefix(&['-']).unwrap_or(&ident);
        let mut line_start = self.at.idx;
        loop {
            let ch = self.next()?;
            if ch == '\n' {
                let line = self
                    .src
                    .get(line_start..self.at.idx.saturating_sub(1))
                    .unwrap_or(&[]);
                if line.len() >= ident.len() && is_anchor_line(line, anchor) {
                    return Ok(());
                }
                line_start = self.at.idx;
            }
            if ch == EOF {
                return self.err("heredoc not terminated");
            }
        }
    }

    fn scan_string(&mut self) -> Res<()> {
        let mut braces = 0usize;
        loop {
            let ch = self.next()?;
            if (ch == '\n' && braces == 0) || ch == EOF {
                return self.err("literal not terminated");
            }
            if ch == '"' && braces == 0 {
                return Ok(());
            }
            if braces == 0 && ch == '$' && self.peek() == '{' {
                braces += 1;
                self.next()?;
            } else if braces > 0 && ch == '{' {
                braces += 1;
            }
            if braces > 0 && ch == '}' {
                braces -= 1;
            }
            if ch == '\\' {
                self.scan_escape()?;
            }
        }
    }

    fn scan_escape(&mut self) -> Res<()> {
        let ch = self.next()?;
        match ch {
            'a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\\' | '"' => Ok(()),
            '0'..='7' => self.scan_digits(ch, 8, 3),
            'x' => {
                let c = self.next()?;
                self.scan_digits(c, 16, 2)
            }
            'u' => {
                let c = self.next()?;
                self.scan_digits(c, 16, 4)
            }
            'U' => {
                let c = self.next()?;
                self.scan_digits(c, 16, 8)
            }
            _ => self.err("illegal char escape"),
        }
    }

    fn scan_digits(&mut self, mut ch: char, base: u32, n: usize) -> Res<()> {
        let mut left = n;
        while left > 0 && ch.to_digit(16).is_some_and(|d| d < base) {
            ch = self.next()?;
            if ch == EOF {
                break;
            }
            left -= 1;
        }
        if left > 0 {
            return self.err("illegal char escape");
        }
        if left != n && ch != EOF {
            self.unread();
        }
        Ok(())
    }

    fn scan_identifier(&mut self) -> Res<()> {
        let mut ch = self.next()?;
        while is_letter(ch) || is_digit(ch) || ch == '-' || ch == '.' {
            ch = self.next()?;
        }
        if ch != EOF {
            self.unread();
        }
        Ok(())
    }
}

/// `^[[:space:]]*ANCHOR\r*\z`, the heredoc terminator.
fn is_anchor_line(line: &[char], anchor: &[char]) -> bool {
    let rest = match line
        .iter()
        .position(|c| !matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c'))
    {
        Some(i) => &line[i..],
        None => &[],
    };
    rest.strip_prefix(anchor)
        .is_some_and(|tail| tail.iter().all(|&c| c == '\r'))
}

fn is_letter(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || (c >= '\u{80}' && c.is_alphabetic())
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || (c >= '\u{80}' && c.is_numeric())
}

#[cfg(test)]
mod tests {
    use super::super::strconv::{heredoc_value, unquote};
    use super::*;

    fn kinds(text: &str) -> Result<Vec<(Kind, String)>, String> {
        let mut l = Lexer::new(text);
        let mut out = Vec::new();
        loop {
            let t = l.scan().map_err(|e| e.message)?;
            if t.kind == Kind::Eof {
                return Ok(out);
            }
            out.push((t.kind, t.text));
        }
    }

    #[test]
    fn numbers() {
        let k = |t: &str| kinds(t).map(|v| v.into_iter().map(|(k, _)| k).collect::<Vec<_>>());
        assert_eq!(k("0x1F"), Ok(vec![Kind::Number]));
        assert_eq!(
            k("017 -5 1.5 1e3 0.5e-2 .5"),
            Ok(vec![
                Kind::Number,
                Kind::Number,
                Kind::Float,
                Kind::Float,
                Kind::Float,
                Kind::Float
            ])
        );
        assert_eq!(k("0x"), Err("illegal hexadecimal number".into()));
        assert_eq!(k("089"), Err("illegal octal number".into()));
        assert_eq!(k("09"), Ok(vec![Kind::Number]));
    }

    #[test]
    fn strings_comments_heredocs() {
        assert!(kinds("\"a\\q\"").is_err());
        assert!(kinds("\"a\nb\"").is_err());
        assert_eq!(kinds("\"${\"x\"}\"").map(|v| v.len()), Ok(1));
        assert_eq!(
            kinds("# a\n// b\n/* c\n */ x"),
            Ok(vec![(Kind::Ident, "x".into())])
        );
        assert!(kinds("/* open").is_err());
        assert!(kinds("/ x").is_err());
        let h = kinds("<<EOF\nhi\nEOF\n").unwrap_or_default();
        assert_eq!(heredoc_value(&h[0].1), "hi\n");
        let h = kinds("<<-EOF\n    a\n      b\n    EOF\n").unwrap_or_default();
        assert_eq!(heredoc_value(&h[0].1), "a\n  b\n");
        assert!(
            kinds("<<EOF\nhi\nEOF").is_err(),
            "the anchor line needs its new line"
        );
        assert_eq!(
            unquote("\"a\\tb\\u00e9${x\\n}\""),
            Some("a\tbé${x\\n}".into())
        );
        assert_eq!(unquote("\"\\777\""), None);
    }
}
