//! Reading one attribute as configutil and go-kms-wrapping do: every value as text, Go's
//! boolean syntax, `env://` and `file://` where upstream resolves them; and how values are
//! shown in messages.

use kms_core::stanza::{Attribute, Schema};

use crate::raw::Val;
use crate::LoadOptions;

/// The closest candidate, if it is close enough to be a likely typo.
pub(crate) fn suggest<'a>(
    given: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let given = given.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&given, c), c))
        .filter(|&(d, c)| d > 0 && d <= 1.max(c.len() / 3))
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

pub(crate) fn did_you_mean(s: Option<&str>) -> String {
    s.map_or_else(String::new, |s| format!(", did you mean \"{s}\"?"))
}

/// A value as shown in a message: quoted, and cut when long.
pub(crate) fn shown(s: &str) -> String {
    const MAX: usize = 120;
    if s.chars().count() > MAX {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut:?}...")
    } else {
        format!("{s:?}")
    }
}

/// Go's `strconv.ParseBool`, which go-kms-wrapping uses for its boolean settings.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// A setting as configutil hands it to a wrapper: every value becomes text through
/// mapstructure's weak decoding (`parseutil.ParseString`): a bool is `"1"` or `"0"`, a
/// number its decimal text. A list or an object is refused, as Boundary refuses it.
pub(crate) fn go_string(v: &Val) -> Result<String, String> {
    match v {
        Val::Str(s) | Val::Num(s) => Ok(s.clone()),
        Val::Bool(b) => Ok(if *b { "1" } else { "0" }.to_owned()),
        Val::List(_) => {
            Err("must be a string, not a list (Boundary reads every kms setting as text)".into())
        }
        Val::Other(d) => Err(format!(
            "must be a string, not {d} (Boundary reads every kms setting as text)"
        )),
    }
}

/// `parseutil.ParseBool`: mapstructure's weak decoding to a bool, as configutil reads
/// `disabled`.
pub(crate) fn go_weak_bool(v: &Val) -> Result<bool, String> {
    match v {
        Val::Bool(b) => Ok(*b),
        Val::Str(s) if s.is_empty() => Ok(false),
        Val::Str(s) => {
            parse_bool(s).ok_or_else(|| format!("must be true or false, not {}", v.describe()))
        }
        Val::Num(n) => Ok(n
            .trim_start_matches('-')
            .chars()
            .any(|c| c.is_ascii_digit() && c != '0')),
        Val::List(_) | Val::Other(_) => Err(format!("must be true or false, not {}", v.kind())),
    }
}

/// A value written as a URL that go-kms-wrapping resolves (`parseutil.ParsePath`), or
/// `None` for text taken as it is.
#[derive(Debug, PartialEq)]
pub(crate) enum PathRef<'a> {
    Env(&'a str),
    File(&'a str),
    Literal(&'a str),
}

/// How `parseutil.ParsePath` reads `s`: the scheme of the trimmed text, as Go's `url.Parse`
/// finds it (in any case), decides; text that does not parse as a URL is taken as it is. The
/// name or path is what follows `env://` / `file://` / `string://` written in lower case;
/// other spellings keep the whole text, as upstream's `TrimPrefix` does.
pub(crate) fn path_ref(s: &str) -> Option<PathRef<'_>> {
    let t = s.trim_matches(go_space);
    if t.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return None;
    }
    let colon = t.find(':')?;
    let scheme = &t[..colon];
    let mut chars = scheme.chars();
    if !chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return None;
    }
    if !url_parses(&t[colon + 1..]) {
        return None;
    }
    let rest = |p: &str| t.strip_prefix(p).unwrap_or(t);
    match scheme.to_ascii_lowercase().as_str() {
        "env" => Some(PathRef::Env(rest("env://"))),
        "file" => Some(PathRef::File(rest("file://"))),
        "string" => Some(PathRef::Literal(rest("string://"))),
        _ => None,
    }
}

/// Go's `strings.TrimSpace` set.
fn go_space(c: char) -> bool {
    c.is_whitespace()
}

/// Whether Go's `url.Parse` accepts what follows a scheme: a bad `%` escape, or an
/// authority with a space, a bad port or an unclosed `[`, is an error there, and the text
/// is then taken as it is.
fn url_parses(after_scheme: &str) -> bool {
    let bad_escape = |s: &str| {
        let b = s.as_bytes();
        b.iter().enumerate().any(|(i, &c)| {
            c == b'%'
                && !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        })
    };
    let (rest, fragment) = match after_scheme.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (after_scheme, None),
    };
    if fragment.is_some_and(bad_escape) {
        return false;
    }
    let rest = rest.split_once('?').map_or(rest, |(r, _)| r);
    let Some(hier) = rest.strip_prefix("//") else {
        return !bad_escape(rest);
    };
    let (authority, path) = match hier.find('/') {
        Some(i) => hier.split_at(i),
        None => (hier, ""),
    };
    if bad_escape(path) {
        return false;
    }
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host.contains(' ') || bad_escape(host) {
        return false;
    }
    if host.starts_with('[') {
        return host.contains(']');
    }
    match host.rsplit_once(':') {
        Some((_, port)) => port.bytes().all(|b| b.is_ascii_digit()),
        None => true,
    }
}

/// The largest `file://` value read (a key, a token): a bigger file is refused unread.
pub(crate) const MAX_FILE_VALUE: u64 = 64 * 1024;

/// Resolves a value the way go-kms-wrapping's `ParsePaths` does for the few settings it
/// applies to: `env://NAME` (an unset variable is an error), `file://PATH` (the file's
/// bytes, untrimmed), `string://TEXT`; anything else as it is. The error names the variable
/// or file, never a value.
pub(crate) fn resolve_path(opts: &LoadOptions, s: &str) -> Result<String, String> {
    match path_ref(s) {
        None => Ok(s.to_owned()),
        Some(PathRef::Literal(t)) => Ok(t.to_owned()),
        Some(PathRef::Env(name)) => opts.var_raw(name).ok_or_else(|| {
            format!(
                "environment variable {} (from env://) is not set",
                shown(name)
            )
        }),
        Some(PathRef::File(path)) => read_value_file(path),
    }
}

fn read_value_file(path: &str) -> Result<String, String> {
    use std::io::Read;
    let fail =
        |e: &dyn std::fmt::Display| format!("cannot read file {} (from file://): {e}", shown(path));
    let meta = std::fs::metadata(path).map_err(|e| fail(&e))?;
    if !meta.is_file() {
        return Err(fail(&"not a regular file"));
    }
    if meta.len() > MAX_FILE_VALUE {
        return Err(fail(&format_args!("larger than {MAX_FILE_VALUE} bytes")));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_VALUE + 1).read_to_end(&mut bytes))
        .map_err(|e| fail(&e))?;
    if bytes.len() as u64 > MAX_FILE_VALUE {
        return Err(fail(&format_args!("larger than {MAX_FILE_VALUE} bytes")));
    }
    String::from_utf8(bytes).map_err(|_| fail(&"not UTF-8 text"))
}

/// The warning for a setting written as `env://`, `file://` or `string://` where
/// go-kms-wrapping takes text literally; `schema` names the settings where it does resolve them.
pub(crate) fn literal_url_warning(s: &str, schema: &Schema) -> Option<String> {
    let kind = match path_ref(s)? {
        PathRef::Env(_) => "an env://",
        PathRef::File(_) => "a file://",
        PathRef::Literal(_) => "a string://",
    };
    let resolved: Vec<&str> = schema
        .attributes
        .iter()
        .filter(|a| a.indirect)
        .map(|a| a.name)
        .collect();
    let where_ = if resolved.is_empty() {
        format!("in no setting of kms \"{}\"", schema.kind)
    } else {
        format!("only in {} of kms \"{}\"", resolved.join(", "), schema.kind)
    };
    Some(format!(
        "looks like {kind} reference, but Boundary takes this setting literally (go-kms-wrapping resolves env:// and file:// {where_})"
    ))
}

/// A value in a type error: for a secret, only its kind.
pub(crate) fn described(attr: Option<&Attribute>, v: &Val) -> String {
    if attr.is_some_and(|a| a.secret) {
        format!("{} (value hidden)", v.kind())
    } else {
        v.describe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let attrs = ["region", "key_name", "secret_key", "endpoint"];
        assert_eq!(suggest("key_nmae", attrs), Some("key_name"));
        assert_eq!(suggest("secret", attrs), None);
        assert_eq!(suggest("regoin", attrs), Some("region"));
        assert_eq!(suggest("x", attrs), None);
        let ps = || kms_core::Purpose::ALL.iter().map(|p| p.as_str());
        assert_eq!(suggest("rooot", ps()), Some("root"));
        assert_eq!(suggest("previous_root", ps()), Some("previous-root"));
        assert_eq!(
            suggest("worker-auth-store", ps()),
            Some("worker-auth-storage")
        );
        assert_eq!(suggest("foo", ps()), None);
    }

    #[test]
    fn parse_path_as_go_reads_it() {
        assert_eq!(path_ref("env://X"), Some(PathRef::Env("X")));
        assert_eq!(path_ref("  env://X \n"), Some(PathRef::Env("X")));
        assert_eq!(path_ref("ENV://X"), Some(PathRef::Env("ENV://X")));
        assert_eq!(path_ref("env:X"), Some(PathRef::Env("env:X")));
        assert_eq!(path_ref("file:///tmp/k"), Some(PathRef::File("/tmp/k")));
        assert_eq!(
            path_ref("string://env://x"),
            Some(PathRef::Literal("env://x"))
        );
        for literal in [
            "plain",
            "alias/x",
            "arn:aws:kms:us-east-1:1:key/x",
            "env://a b",
            "env://%zz",
            "env://h:x1",
            ":x",
            "1env://x",
            "env://x\u{7}",
        ] {
            assert_eq!(path_ref(literal), None, "{literal:?}");
        }
    }

    #[test]
    fn go_parse_bool() {
        for t in ["1", "t", "T", "true", "TRUE", "True"] {
            assert_eq!(parse_bool(t), Some(true));
        }
        for f in ["0", "f", "F", "false", "FALSE", "False"] {
            assert_eq!(parse_bool(f), Some(false));
        }
        assert_eq!(parse_bool("yes"), None);
        assert_eq!(parse_bool(""), None);
    }
}
