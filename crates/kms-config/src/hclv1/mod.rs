//! A reader for HCL v1, the syntax Boundary reads its configs with (hashicorp/hcl
//! v1.0.1-vault-7): the scanner and parser ported from Go, and the decoding rules configutil
//! relies on (`decode.rs`). It keeps positions for messages, never evaluates anything (HCL
//! v1 has no expressions: `${...}` is text), never panics, and bounds its nesting.

mod decode;
mod json;
mod lexer;
mod parser;
mod strconv;

pub(crate) use decode::{decode_body, key_value};
pub(crate) use lexer::{Kind, Token};

/// A 1-based line and column (in characters), as HCL v1 counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub(crate) line: usize,
    pub(crate) col: usize,
}

impl Pos {
    pub(crate) fn new(line: usize, col: usize) -> Self {
        Pos { line, col }
    }
}

/// The first syntax error of a file. The message never quotes a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) pos: Pos,
    pub(crate) message: String,
}

/// One item of an object list: `KEY = VALUE`, or `KEY LABEL... { ... }`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    /// The key and labels (IDENT or STRING tokens); at least one.
    pub(crate) keys: Vec<Token>,
    /// Written with `=`.
    pub(crate) assign: bool,
    pub(crate) val: Node,
}

/// A value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// A NUMBER, FLOAT, BOOL, STRING or HEREDOC token.
    Lit(Token),
    /// `{ ... }`, with the position of its `{`.
    Obj(Vec<Item>, Pos),
    /// `[ ... ]`, with the position of its `[`.
    List(Vec<Node>, Pos),
}

/// Parses a whole HCL v1 file into its top-level items, as `hcl.Parse` does (after turning
/// `\r\n` into `\n`).
pub(crate) fn parse(text: &str) -> Result<Vec<Item>, SyntaxError> {
    let text = text.replace("\r\n", "\n");
    let items = parser::Parser::new(&text).parse()?;
    check_strings(&items)?;
    Ok(items)
}

/// Parses a JSON config as `hcl.Parse` does (HCL v1's lenient JSON reader, then
/// `flattenObjects`), into the same items as HCL.
pub(crate) fn parse_json(text: &str) -> Result<Vec<Item>, SyntaxError> {
    let items = json::parse(text)?;
    check_strings(&items)?;
    Ok(items)
}

/// Strings that the scanner accepts but Go's unquoting refuses (`"\777"`) make Boundary
/// stop (a panic) where it reads them: as the first key of a top-level item, which it
/// reads for every item to find the kms blocks. In a kms block they are bad values
/// (`decode.rs`); elsewhere Boundary never reads them.
fn check_strings(items: &[Item]) -> Result<(), SyntaxError> {
    for t in items.iter().filter_map(|i| i.keys.first()) {
        let bad = match t.kind {
            Kind::String => strconv::unquote(&t.text).is_none(),
            Kind::JsonString => strconv::go_unquote(&t.text).is_none(),
            _ => false,
        };
        if bad {
            return Err(SyntaxError {
                pos: t.pos,
                message: "invalid escape in a key".to_owned(),
            });
        }
    }
    Ok(())
}
