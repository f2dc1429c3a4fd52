//! `purpose`: a string or a list of strings, naming Boundary's purposes.

use kms_core::Purpose;

use super::attrs::{did_you_mean, shown, suggest};
use super::{Attrs, Ctx, PURPOSE};
use crate::raw::Val;

/// What `purpose` should have been, when it is neither a string nor a list.
pub(super) fn mismatch(v: &Val) -> Option<&'static str> {
    match v {
        Val::Str(_) | Val::List(_) => None,
        _ => Some("a string or a list of strings"),
    }
}

pub(super) fn purposes(cx: &mut Ctx<'_>, a: &Attrs<'_>) -> Vec<Purpose> {
    let b = a.block;
    let mut items: Vec<String> = Vec::new();
    let mut reported = false;
    match a.vals.get(PURPOSE) {
        None if a.failed.contains(PURPOSE) => return Vec::new(),
        None => {
            cx.err(
                b,
                Some(PURPOSE),
                "missing: every kms block needs a purpose, e.g. purpose = \"root\"".into(),
            );
            return Vec::new();
        }
        Some(Val::Str(s)) => items.extend(s.split(',').map(str::to_owned)),
        Some(Val::List(l)) => {
            for item in l {
                match item {
                    Val::Str(s) => items.extend(s.split(',').map(str::to_owned)),
                    other => {
                        reported = true;
                        cx.err(
                            b,
                            Some(PURPOSE),
                            format!("list items must be strings, not {}", other.describe()),
                        );
                    }
                }
            }
        }
        Some(other) => {
            cx.err(
                b,
                Some(PURPOSE),
                format!(
                    "must be a string or a list of strings, not {}",
                    other.describe()
                ),
            );
            return Vec::new();
        }
    }
    let mut out = Vec::new();
    for raw in items {
        let norm = raw.trim().to_ascii_lowercase();
        if norm.is_empty() {
            continue;
        }
        match norm.parse::<Purpose>() {
            Ok(p) if out.contains(&p) => {
                reported = true;
                cx.err(b, Some(PURPOSE), format!("purpose \"{p}\" is listed twice"));
            }
            Ok(p) => out.push(p),
            Err(_) => {
                reported = true;
                let s = suggest(&norm, Purpose::ALL.iter().map(|p| p.as_str()));
                let valid: Vec<&str> = Purpose::ALL.iter().map(|p| p.as_str()).collect();
                cx.err(
                    b,
                    Some(PURPOSE),
                    format!(
                        "unknown purpose {}{} (valid: {})",
                        shown(&norm),
                        did_you_mean(s),
                        valid.join(", ")
                    ),
                );
            }
        }
    }
    if out.is_empty() && !reported {
        cx.err(
            b,
            Some(PURPOSE),
            "is empty: every kms block needs a purpose, e.g. purpose = \"root\"".into(),
        );
    }
    out
}
