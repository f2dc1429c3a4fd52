//! `purpose`, read as configutil reads it (`parseutil.ParseCommaStringSlice`, then lower
//! case), and checked as Boundary's `SetupKMSes` checks it.

use kms_core::Purpose;

use super::attrs::{did_you_mean, go_string, shown, suggest};
use crate::raw::Val;

/// configutil's reading of `purpose`: an empty string is no purpose; other text is split at
/// commas; a list's items are taken whole (never split), each as text; every item is
/// trimmed and lower-cased. An item may be empty ("root,"), which Boundary refuses later.
pub(super) fn parse(v: &Val) -> Result<Vec<String>, String> {
    let items: Vec<String> = match v {
        Val::Str(s) if s.is_empty() => return Ok(Vec::new()),
        Val::Str(s) => s.split(',').map(str::to_owned).collect(),
        Val::Num(_) | Val::Bool(_) => vec![go_string(v)?],
        Val::List(l) => l
            .iter()
            .map(|i| {
                go_string(i).map_err(|_| format!("list items must be strings, not {}", i.kind()))
            })
            .collect::<Result<_, _>>()?,
        Val::Other(d) => return Err(format!("must be a string or a list of strings, not {d}")),
    };
    Ok(items.into_iter().map(|s| s.trim().to_lowercase()).collect())
}

/// Boundary's purpose, or why `SetupKMSes` refuses the text.
pub(super) fn purpose(text: &str) -> Result<Purpose, String> {
    if text.is_empty() {
        return Err(
            "has an empty item (as in \"root,\"), which Boundary refuses: \"KMS block missing 'purpose'\""
                .into(),
        );
    }
    text.parse::<Purpose>().map_err(|_| {
        let s = suggest(text, Purpose::ALL.iter().map(|p| p.as_str()));
        let valid: Vec<&str> = Purpose::ALL.iter().map(|p| p.as_str()).collect();
        format!(
            "unknown purpose {}{} (valid: {})",
            shown(text),
            did_you_mean(s),
            valid.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Val {
        Val::Str(v.into())
    }

    #[test]
    fn as_configutil_reads_it() {
        assert_eq!(parse(&s("")), Ok(vec![]));
        assert_eq!(
            parse(&s("Root, Recovery ")),
            Ok(vec!["root".into(), "recovery".into()])
        );
        assert_eq!(parse(&s("root,")), Ok(vec!["root".into(), String::new()]));
        assert_eq!(
            parse(&Val::List(vec![s("root,recovery"), s(" ")])),
            Ok(vec!["root,recovery".into(), String::new()])
        );
        assert_eq!(parse(&Val::Bool(true)), Ok(vec!["1".into()]));
        assert_eq!(parse(&Val::List(vec![])), Ok(vec![]));
        assert!(parse(&Val::Other("an object")).is_err());
        assert!(parse(&Val::List(vec![Val::List(vec![])])).is_err());
        assert!(purpose("")
            .unwrap_err()
            .contains("KMS block missing 'purpose'"));
        assert!(purpose("rooot")
            .unwrap_err()
            .contains("did you mean \"root\""));
        assert_eq!(purpose("previous-root"), Ok(Purpose::PreviousRoot));
    }
}
