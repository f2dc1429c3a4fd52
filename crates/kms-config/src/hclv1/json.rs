//! HCL v1's JSON reader (`hcl/json/scanner` and `hcl/json/parser` at v1.0.1-vault-7),
//! ported with its leniencies, because they decide what Boundary accepts: an object ends at
//! any token that is not a comma, so a missing comma or a trailing one is accepted; text
//! after the top-level object is never read; a list skips commas, bools and `[`; the end
//! of the input closes whatever is open. Then `flattenObjects` turns nested objects into
//! the multi-key items HCL itself would give, so that the rest of the reading is shared.

use super::lexer::{Kind, Token};
use super::{Item, Node, Pos, SyntaxError};

const MAX_DEPTH: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum T {
    Illegal,
    Eof,
    Number,
    Float,
    Bool,
    Null,
    String,
    LBrack,
    RBrack,
    LBrace,
    RBrace,
    Comma,
    Colon,
    Period,
}

#[derive(Debug, Clone)]
struct Tok {
    t: T,
    text: String,
    pos: Pos,
}

struct Scanner {
    chars: Vec<char>,
    i: usize,
    line: usize,
    col: usize,
    prev: (usize, usize, usize),
    /// The last error the scanner reported, which fails the whole parse (Go's `scerr`).
    error: Option<SyntaxError>,
}

const EOF: char = '\0';

impl Scanner {
    fn next(&mut self) -> char {
        let Some(&c) = self.chars.get(self.i) else {
            self.col += 1;
            return EOF;
        };
        self.prev = (self.i, self.line, self.col);
        self.i += 1;
        self.col += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 0;
        }
        c
    }

    fn unread(&mut self) {
        (self.i, self.line, self.col) = self.prev;
    }

    fn peek(&self) -> char {
        self.chars.get(self.i).copied().unwrap_or(EOF)
    }

    fn err(&mut self, message: &str) {
        self.error = Some(SyntaxError {
            pos: Pos::new(self.line, self.col.max(1)),
            message: message.to_owned(),
        });
    }

    fn scan(&mut self) -> Tok {
        let mut ch = self.next();
        while matches!(ch, ' ' | '\t' | '\n' | '\r') {
            ch = self.next();
        }
        let start = self.i.saturating_sub(1);
        let pos = Pos::new(self.line, self.col.max(1));
        let mut t = T::Illegal;
        if is_letter(ch) {
            while is_letter(self.peek()) || is_digit(self.peek()) || self.peek() == '-' {
                self.next();
            }
            let lit: String = self.chars[start..self.i].iter().collect();
            match lit.as_str() {
                "true" | "false" => t = T::Bool,
                "null" => t = T::Null,
                _ => self.err("illegal char"),
            }
        } else if ch.is_ascii_digit() {
            t = self.scan_number(ch);
        } else {
            match ch {
                EOF => t = T::Eof,
                '"' => {
                    t = T::String;
                    self.scan_string();
                }
                '.' => {
                    t = T::Period;
                    if self.peek().is_ascii_digit() {
                        t = T::Float;
                        let c = self.peek();
                        let c = self.scan_mantissa(c);
                        self.scan_exponent(c);
                    }
                }
                '[' => t = T::LBrack,
                ']' => t = T::RBrack,
                '{' => t = T::LBrace,
                '}' => t = T::RBrace,
                ',' => t = T::Comma,
                ':' => t = T::Colon,
                '-' if self.peek().is_ascii_digit() => {
                    let c = self.next();
                    t = self.scan_number(c);
                }
                '-' => self.err("illegal char"),
                _ => self.err("illegal char"),
            }
        }
        let end = self.i.min(self.chars.len()).max(start);
        let text = if ch == EOF && t == T::Eof {
            String::new()
        } else {
            self.chars[start..end].iter().collect()
        };
        Tok { t, text, pos }
    }

    fn scan_number(&mut self, ch: char) -> T {
        let zero = ch == '0';
        let before = (self.i, self.col);
        self.scan_mantissa(ch);
        let ch = self.next();
        if ch == 'e' || ch == 'E' {
            self.scan_exponent(ch);
            return T::Float;
        }
        if ch == '.' {
            let mut c = self.peek();
            c = self.scan_mantissa(c);
            if c == 'e' || c == 'E' {
                let c = self.next();
                self.scan_exponent(c);
            }
            return T::Float;
        }
        if ch != EOF {
            self.unread();
        }
        if zero && before != (self.i, self.col) {
            self.err("numbers cannot start with 0");
        }
        T::Number
    }

    fn scan_mantissa(&mut self, mut ch: char) -> char {
        let mut scanned = false;
        while ch.is_ascii_digit() {
            ch = self.next();
            scanned = true;
        }
        if scanned && ch != EOF {
            self.unread();
        }
        ch
    }

    fn scan_exponent(&mut self, mut ch: char) -> char {
        if ch == 'e' || ch == 'E' {
            ch = self.next();
            if ch == '-' || ch == '+' {
                ch = self.next();
            }
            ch = self.scan_mantissa(ch);
        }
        ch
    }

    fn scan_string(&mut self) {
        loop {
            let ch = self.next();
            if ch == '\n' || ch == EOF {
                self.err("literal not terminated");
                return;
            }
            if ch == '"' {
                return;
            }
            if ch == '\\' {
                self.scan_escape();
            }
        }
    }

    fn scan_escape(&mut self) {
        let ch = self.next();
        match ch {
            'a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\\' | '"' => {}
            '0'..='7' => self.scan_digits(ch, 8, 3),
            'x' => {
                let c = self.next();
                self.scan_digits(c, 16, 2);
            }
            'u' => {
                let c = self.next();
                self.scan_digits(c, 16, 4);
            }
            'U' => {
                let c = self.next();
                self.scan_digits(c, 16, 8);
            }
            _ => self.err("illegal char escape"),
        }
    }

    fn scan_digits(&mut self, mut ch: char, base: u32, mut n: usize) {
        while n > 0 && ch.to_digit(16).is_some_and(|d| d < base) {
            ch = self.next();
            n -= 1;
        }
        if n > 0 {
            self.err("illegal char escape");
        }
        self.unread();
    }
}

fn is_letter(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || (c as u32 >= 0x80 && c.is_alphabetic())
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || (c as u32 >= 0x80 && c.is_numeric())
}

/// Why a parse stopped: the end of input, which every level accepts, or an error.
enum Stop {
    Eof,
    Err(SyntaxError),
}

type Res<T> = Result<T, Stop>;

struct Parser {
    sc: Scanner,
    tok: Tok,
    depth: usize,
}

impl Parser {
    fn scan(&mut self) -> Tok {
        self.tok = self.sc.scan();
        self.tok.clone()
    }

    fn fail<X>(&self, message: String) -> Res<X> {
        Err(Stop::Err(SyntaxError {
            pos: self.tok.pos,
            message,
        }))
    }

    /// The error keeps the items read so far: an object closed by `}` keeps them.
    fn object_list_keep(&mut self) -> (Vec<Item>, Option<Stop>) {
        let mut items = Vec::new();
        loop {
            match self.object_item() {
                Err(Stop::Eof) => break,
                Err(e) => return (items, Some(e)),
                Ok(item) => items.push(item),
            }
            if self.scan().t != T::Comma {
                break;
            }
        }
        (items, None)
    }

    fn object_item(&mut self) -> Res<Item> {
        let keys = self.object_key()?;
        let val = self.object_value()?;
        Ok(Item {
            keys,
            assign: true,
            val,
        })
    }

    fn object_key(&mut self) -> Res<Vec<Token>> {
        let mut keys = Vec::new();
        loop {
            let tok = self.scan();
            match tok.t {
                T::Eof => return Err(Stop::Eof),
                T::String => keys.push(Token {
                    kind: Kind::JsonString,
                    text: tok.text,
                    pos: tok.pos,
                }),
                T::Colon if !keys.is_empty() => return Ok(keys),
                T::Illegal => return self.fail("illegal".into()),
                other => return self.fail(format!("expected: STRING got: {other:?}")),
            }
        }
    }

    fn literal(&self) -> Node {
        let kind = match self.tok.t {
            T::Number => Kind::Number,
            T::Float => Kind::Float,
            T::Bool => Kind::Bool,
            _ => Kind::JsonString,
        };
        Node::Lit(Token {
            kind,
            // null is a STRING token with no text, whose value is "".
            text: if self.tok.t == T::Null {
                String::new()
            } else {
                self.tok.text.clone()
            },
            pos: self.tok.pos,
        })
    }

    fn object_value(&mut self) -> Res<Node> {
        let tok = self.scan();
        match tok.t {
            T::Number | T::Float | T::Bool | T::Null | T::String => Ok(self.literal()),
            T::LBrace => self.object_type(),
            T::LBrack => self.list_type(),
            T::Eof => Err(Stop::Eof),
            other => self.fail(format!(
                "Expected object value, got unknown token: {other:?}"
            )),
        }
    }

    fn deeper(&mut self) -> Res<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.fail(format!("nested more than {MAX_DEPTH} levels deep"));
        }
        Ok(())
    }

    fn object_type(&mut self) -> Res<Node> {
        let pos = self.tok.pos;
        self.deeper()?;
        let (items, err) = self.object_list_keep();
        self.depth -= 1;
        match err {
            Some(e) if self.tok.t != T::RBrace => Err(e),
            _ => Ok(Node::Obj(items, pos)),
        }
    }

    fn list_type(&mut self) -> Res<Node> {
        let pos = self.tok.pos;
        self.deeper()?;
        let mut elems = Vec::new();
        loop {
            let tok = self.scan();
            match tok.t {
                T::Number | T::Float | T::String => elems.push(self.literal()),
                T::Comma | T::Bool | T::LBrack => {}
                T::LBrace => elems.push(self.object_type()?),
                T::RBrack => break,
                other => {
                    return self.fail(format!("unexpected token while parsing list: {other:?}"))
                }
            }
        }
        self.depth -= 1;
        Ok(Node::List(elems, pos))
    }
}

/// Parses a JSON config as `hcl.Parse` does, into flattened top-level items.
pub(crate) fn parse(text: &str) -> Result<Vec<Item>, SyntaxError> {
    let mut p = Parser {
        sc: Scanner {
            chars: text.chars().collect(),
            i: 0,
            line: 1,
            col: 0,
            prev: (0, 1, 0),
            error: None,
        },
        tok: Tok {
            t: T::Eof,
            text: String::new(),
            pos: Pos::new(1, 1),
        },
        depth: 0,
    };
    let first = p.scan();
    let result = match first.t {
        T::LBrace => p.object_type(),
        T::Eof => Err(Stop::Eof),
        other => p.fail(format!("Expected object, got unknown token: {other:?}")),
    };
    if let Some(e) = p.sc.error.take() {
        return Err(e);
    }
    match result {
        Ok(Node::Obj(items, _)) => Ok(flatten(items)),
        Ok(_) => Ok(Vec::new()),
        Err(Stop::Eof) => Err(SyntaxError {
            pos: p.tok.pos,
            message: "EOF token found".into(),
        }),
        Err(Stop::Err(e)) => Err(e),
    }
}

/// `flattenObjects`: an item whose value is a non-empty object of objects becomes one item
/// per member, with the member's key appended; an item whose value is a non-empty list of
/// objects becomes one item per element. Applied top-down through the whole tree.
fn flatten(list: Vec<Item>) -> Vec<Item> {
    let mut items = Vec::new();
    let mut frontier = list;
    while let Some(item) = frontier.pop() {
        match &item.val {
            Node::Obj(members, _)
                if !members.is_empty()
                    && members.iter().all(|m| matches!(m.val, Node::Obj(..))) =>
            {
                for m in members {
                    let mut keys = item.keys.clone();
                    keys.extend(m.keys.iter().cloned());
                    frontier.push(Item {
                        keys,
                        assign: item.assign,
                        val: m.val.clone(),
                    });
                }
            }
            Node::List(elems, _)
                if !elems.is_empty() && elems.iter().all(|e| matches!(e, Node::Obj(..))) =>
            {
                for e in elems {
                    frontier.push(Item {
                        keys: item.keys.clone(),
                        assign: item.assign,
                        val: e.clone(),
                    });
                }
            }
            _ => items.push(item),
        }
    }
    items.reverse();
    items
        .into_iter()
        .map(|mut item| {
            item.val = flatten_node(item.val);
            item
        })
        .collect()
}

fn flatten_node(n: Node) -> Node {
    match n {
        Node::Obj(members, pos) => Node::Obj(flatten(members), pos),
        Node::List(elems, pos) => Node::List(elems.into_iter().map(flatten_node).collect(), pos),
        lit => lit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hclv1::key_value;

    fn keys(text: &str) -> Vec<Vec<String>> {
        parse(text)
            .unwrap_or_else(|e| panic!("{text}: {e:?}"))
            .iter()
            .map(|i| i.keys.iter().map(key_value).collect())
            .collect()
    }

    #[test]
    fn leniencies_as_in_go() {
        let k = vec![vec!["kms".to_owned(), "demo".to_owned()]];
        assert_eq!(
            keys(r#"{"kms": {"demo": {"purpose": "root"}}} trailing @@"#),
            k
        );
        assert_eq!(keys(r#"{"kms": {"demo": {"purpose": "root",}},}"#), k);
        assert_eq!(keys(r#"{"kms": {"demo": {"purpose": "root" "x": 1}}}"#), k);
        assert_eq!(
            keys(r#"{"kms": {"demo": {"purpose": ["a" "b", true, [ ]}}}"#),
            k
        );
        assert_eq!(keys(r#"{"kms": {"demo": {"purpose": "root""#), k);
        assert_eq!(
            keys(r#"{"kms": [{"demo": {"a": 1}}, {"other": {"b": 2}}]}"#),
            vec![
                vec!["kms".to_owned(), "demo".to_owned()],
                vec!["kms".to_owned(), "other".to_owned()]
            ]
        );
    }

    #[test]
    fn errors_as_in_go() {
        for bad in [
            r#"{"a": "\/"}"#,
            r#"{"a": 01}"#,
            r#"{"a": nul}"#,
            r#"{"a": [null]}"#,
            r#"{"a" 1}"#,
            r#"{"a": "x
"}"#,
            "{\"a\": ".to_owned().as_str(),
        ] {
            assert!(parse(bad).is_err() || bad.ends_with(": "), "{bad:?}");
        }
        let deep = "{\"a\": ".repeat(500);
        assert!(parse(&deep).is_err());
    }
}
