//! HCL v1's parser (`hcl/parser` at v1.0.1-vault-7), ported: object lists with optional
//! commas, items `KEY... = VALUE` or `KEY... { ... }`, lists, and the "argument set twice"
//! check that `hcl.Parse` makes. Its messages keep Go's wording but never quote a value.

use std::collections::HashSet;

use super::lexer::{Kind, Lexer, Token};
use super::{Item, Node, Pos, SyntaxError};

/// Deeper nesting than any config needs; it keeps recursion bounded on hostile input.
const MAX_DEPTH: usize = 100;

type Res<T> = Result<T, SyntaxError>;

/// Why an object list ended without an error.
enum Stop {
    /// The input ended where an item could start (Go's `errEofToken`).
    Eof,
}

pub(crate) struct Parser {
    lx: Lexer,
    tok: Token,
    /// A token pushed back by `unscan`.
    back: bool,
    depth: usize,
}

fn err<T>(pos: Pos, message: String) -> Res<T> {
    Err(SyntaxError { pos, message })
}

impl Parser {
    pub(crate) fn new(text: &str) -> Self {
        Parser {
            lx: Lexer::new(text),
            tok: Token {
                kind: Kind::Eof,
                text: String::new(),
                pos: Pos::new(1, 1),
            },
            back: false,
            depth: 0,
        }
    }

    fn scan(&mut self) -> Res<Token> {
        if self.back {
            self.back = false;
        } else {
            self.tok = self.lx.scan()?;
        }
        Ok(self.tok.clone())
    }

    fn unscan(&mut self) {
        self.back = true;
    }

    /// The whole file: the top-level object list.
    pub(crate) fn parse(mut self) -> Res<Vec<Item>> {
        self.object_list(false)
    }

    fn object_list(&mut self, in_object: bool) -> Res<Vec<Item>> {
        let mut items: Vec<Item> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        loop {
            if in_object {
                let t = self.scan()?;
                self.unscan();
                if t.kind == Kind::RBrace {
                    break;
                }
            }
            let item = match self.object_item()? {
                Ok(item) => item,
                Err(Stop::Eof) => break,
            };
            if item.assign {
                for key in &item.keys {
                    if !seen.insert(key.text.clone()) {
                        return err(
                            key.pos,
                            format!(
                                "the argument {} was already set; each argument can only be defined once",
                                key.text
                            ),
                        );
                    }
                }
            }
            items.push(item);
            if self.scan()?.kind != Kind::Comma {
                self.unscan();
            }
        }
        Ok(items)
    }

    fn object_item(&mut self) -> Res<Result<Item, Stop>> {
        let (keys, ended) = self.object_key()?;
        let term = match ended {
            Ok(()) => self.tok.kind,
            Err(KeyEnd::Eof) if keys.is_empty() => return Ok(Err(Stop::Eof)),
            Err(KeyEnd::Eof) => Kind::Eof,
            // Keys and then `}`: Go goes on to the "expected start of object" error.
            Err(KeyEnd::Syntax(_)) if !keys.is_empty() && self.tok.kind == Kind::RBrace => {
                Kind::Eof
            }
            Err(KeyEnd::Syntax(e)) => return Err(e),
        };
        let (assign, val) = match term {
            Kind::Assign => match self.object()? {
                Ok(v) => (true, v),
                Err(stop) => return Ok(Err(stop)),
            },
            Kind::LBrace => (false, self.object_type()?),
            // Go quotes the keys here; they may be a stray secret line, so they are not shown.
            _ => {
                return err(
                    self.tok.pos,
                    "a key must be followed by an assignment ('=') or an object ('{')".to_owned(),
                )
            }
        };
        Ok(Ok(Item { keys, assign, val }))
    }

    fn object_key(&mut self) -> Res<(Vec<Token>, Result<(), KeyEnd>)> {
        let mut keys: Vec<Token> = Vec::new();
        loop {
            let t = self.scan()?;
            let problem = match t.kind {
                Kind::Eof => return Ok((keys, Err(KeyEnd::Eof))),
                Kind::Assign if keys.len() > 1 => {
                    "nested object expected: LBRACE got: ASSIGN".to_owned()
                }
                Kind::Assign if keys.is_empty() => "no object keys found!".to_owned(),
                Kind::Assign => return Ok((keys, Ok(()))),
                Kind::LBrace if keys.is_empty() => {
                    "expected: IDENT | STRING got: LBRACE".to_owned()
                }
                Kind::LBrace => return Ok((keys, Ok(()))),
                Kind::Ident | Kind::String => {
                    keys.push(t);
                    continue;
                }
                other => format!(
                    "expected: IDENT | STRING | ASSIGN | LBRACE got: {}",
                    other.name()
                ),
            };
            let e = SyntaxError {
                pos: t.pos,
                message: problem,
            };
            return Ok((keys, Err(KeyEnd::Syntax(e))));
        }
    }

    /// A value after `=`.
    fn object(&mut self) -> Res<Result<Node, Stop>> {
        let t = self.scan()?;
        Ok(Ok(match t.kind {
            Kind::Number | Kind::Float | Kind::Bool | Kind::String | Kind::Heredoc => Node::Lit(t),
            Kind::LBrace => self.object_type()?,
            Kind::LBrack => self.list_type()?,
            Kind::Eof => return Ok(Err(Stop::Eof)),
            other => {
                return err(
                    t.pos,
                    format!(
                        "unknown token {} (values are literals, lists and objects; \
                         HCL v1 has no expressions, variables or functions)",
                        other.name()
                    ),
                )
            }
        }))
    }

    fn deeper(&mut self, pos: Pos) -> Res<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(pos, format!("nested more than {MAX_DEPTH} levels deep"));
        }
        Ok(())
    }

    /// After `{`.
    fn object_type(&mut self) -> Res<Node> {
        let pos = self.tok.pos;
        self.deeper(pos)?;
        let items = self.object_list(true)?;
        let t = self.scan()?;
        if t.kind != Kind::RBrace {
            return err(
                t.pos,
                format!("object expected closing RBRACE got: {}", t.kind.name()),
            );
        }
        self.depth -= 1;
        Ok(Node::Obj(items, pos))
    }

    /// After `[`.
    fn list_type(&mut self) -> Res<Node> {
        let pos = self.tok.pos;
        self.deeper(pos)?;
        let mut list = Vec::new();
        let mut need_comma = false;
        loop {
            let t = self.scan()?;
            if need_comma && !matches!(t.kind, Kind::Comma | Kind::RBrack) {
                return err(
                    t.pos,
                    format!(
                        "error parsing list, expected comma or list end, got: {}",
                        t.kind.name()
                    ),
                );
            }
            match t.kind {
                Kind::Bool | Kind::Number | Kind::Float | Kind::String | Kind::Heredoc => {
                    list.push(Node::Lit(t));
                    need_comma = true;
                }
                Kind::Comma => need_comma = false,
                Kind::LBrace => {
                    list.push(self.object_type()?);
                    need_comma = true;
                }
                // Go does not ask for a comma after a nested list.
                Kind::LBrack => list.push(self.list_type()?),
                Kind::RBrack => {
                    self.depth -= 1;
                    return Ok(Node::List(list, pos));
                }
                other => {
                    return err(
                        t.pos,
                        format!("unexpected token while parsing list: {}", other.name()),
                    )
                }
            }
        }
    }
}

/// How reading an item's keys ended, when not at `=` or `{`.
enum KeyEnd {
    Eof,
    Syntax(SyntaxError),
}
