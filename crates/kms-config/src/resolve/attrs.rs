//! Reading one attribute: `env://` and `file://` values, types, Go's boolean syntax, and how
//! values are shown in messages.

use kms_core::stanza::{Attribute, ValueType};

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

/// What the value should have been, when it is not of type `ty`.
pub(crate) fn mismatch(ty: ValueType, v: &Val) -> Option<&'static str> {
    match (ty, v) {
        (ValueType::Bool, Val::Bool(_)) => None,
        (ValueType::Bool, Val::Str(s) | Val::Num(s)) if parse_bool(s).is_some() => None,
        (ValueType::Bool, _) => Some("true or false"),
        (ValueType::Text, Val::Str(_) | Val::Num(_)) => None,
        (ValueType::Text, _) => Some("a string"),
    }
}

/// A value in a type error: for a secret, only its kind.
pub(crate) fn described(attr: Option<&Attribute>, v: &Val) -> String {
    if attr.is_some_and(|a| a.secret) {
        format!("{} (value hidden)", v.kind())
    } else {
        v.describe()
    }
}

/// Resolves `env://NAME` and `file://PATH`; other text is returned as it is. The error says
/// which variable or file failed, never a value.
pub(crate) fn indirect(opts: &LoadOptions, s: &str) -> Result<String, String> {
    if let Some(name) = s.strip_prefix("env://") {
        return opts.var_raw(name).ok_or_else(|| {
            format!("environment variable {name} (from \"env://{name}\") is not set")
        });
    }
    if let Some(path) = s.strip_prefix("file://") {
        return match std::fs::read_to_string(path) {
            Ok(mut v) => {
                if v.ends_with('\n') {
                    v.pop();
                    if v.ends_with('\r') {
                        v.pop();
                    }
                }
                Ok(v)
            }
            Err(e) => Err(format!(
                "cannot read file {path} (from \"file://{path}\"): {e}"
            )),
        };
    }
    Ok(s.to_owned())
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
