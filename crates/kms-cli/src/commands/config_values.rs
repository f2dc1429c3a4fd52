//! `kms config encrypt|decrypt`: values inside config files, as Boundary protects them.

use std::process::ExitCode;

use base64::Engine;
use kms::envelope::value::{decrypt_value, encrypt_value};
use kms::Purpose;
use prost::Message;

use super::common::{build_keyring, load_file, single_config_wrapper};
use zeroize::Zeroizing;

use crate::cli::ConfigValueArgs;
use crate::failure::{CliResult, Failure};
use crate::io::Output;

pub(crate) async fn encrypt(a: ConfigValueArgs) -> CliResult<ExitCode> {
    process(a, "encrypt").await
}

pub(crate) async fn decrypt(a: ConfigValueArgs) -> CliResult<ExitCode> {
    process(a, "decrypt").await
}

async fn process(a: ConfigValueArgs, func: &str) -> CliResult<ExitCode> {
    let config = load_file(&a.config)?;
    let keyring = build_keyring(
        &config,
        if func == "encrypt" {
            &[Purpose::Config]
        } else {
            &[]
        },
    )
    .await?;
    let wrapper = single_config_wrapper(&config, &keyring)?;
    let name = a.file.display().to_string();
    // On encrypt the file holds plain values: wiped when dropped.
    let text = Zeroizing::new(
        std::fs::read_to_string(&a.file)
            .map_err(|e| Failure::usage(format!("{name}: cannot read: {e}")))?,
    );
    let markers = kms::config::find_markers(&text, func);
    if func == "encrypt" {
        let misses = near_misses(&text, &markers);
        if !misses.is_empty() {
            let lines: Vec<String> = misses.iter().map(|l| l.to_string()).collect();
            return Err(Failure::usage(format!(
                "{name}: line(s) {} hold something like an {{{{encrypt(..)}}}} marker that is not one (a marker is exactly {{{{encrypt(VALUE)}}}} on one line); fix it so no secret stays in plain text",
                lines.join(", ")
            )));
        }
    }
    // Plain values (the input's on encrypt, decrypted ones on decrypt) are wiped when dropped.
    let mut replacements = Zeroizing::new(Vec::with_capacity(markers.len()));
    for m in &markers {
        let line = text[..m.range.start].matches('\n').count() + 1;
        let place = format!("{name}:{line}");
        let replacement = if func == "encrypt" {
            let blob = encrypt_value(wrapper, m.value.as_bytes(), b"", None)
                .await
                .map_err(|e| Failure::from_error(&place, e))?;
            let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(blob.encode_to_vec());
            if a.strip {
                b64
            } else {
                format!("{{{{decrypt({b64})}}}}")
            }
        } else {
            let blob = kms::BlobInfo::from_text(m.value).ok().ok_or_else(|| {
                Failure::op(format!(
                    "{place}: {{{{decrypt(..)}}}} does not hold a base64url BlobInfo"
                ))
            })?;
            let plain = decrypt_value(&[wrapper], &blob, b"", Purpose::Config)
                .await
                .map_err(|e| Failure::from_error(&place, e))?;
            let value = std::str::from_utf8(plain.expose_secret()).map_err(|_| {
                Failure::op(format!("{place}: the decrypted value is not UTF-8 text"))
            })?;
            if a.strip {
                value.to_owned()
            } else {
                format!("{{{{encrypt({value})}}}}")
            }
        };
        replacements.push(replacement);
    }
    let result = Zeroizing::new(kms::config::replace_markers(&text, &markers, &replacements));
    let target = if a.overwrite {
        Some(a.file.as_path())
    } else {
        a.output.as_deref()
    };
    // --overwrite replaces FILE itself, atomically; otherwise the input is never a target.
    let mut out = Output::open(
        target,
        if a.overwrite {
            None
        } else {
            Some(a.file.as_path())
        },
        false,
    )?;
    out.writer()
        .write_all(result.as_bytes())
        .map_err(|e| Failure::op(format!("write failed: {e}")))?;
    out.commit(a.overwrite)?;
    eprintln!("kms: {name}: {} value(s) {func}ed", markers.len());
    Ok(ExitCode::SUCCESS)
}

/// Lines with a `{{`, optional spaces, `encrypt` in any case, optional spaces and `(` that is
/// not the start of a marker: `{{ encrypt(x) }}`, `{{ENCRYPT(x)}}`, `{{encrypt(x)}` (no `)}}`
/// on its line). Left alone, such a value would stay in plain text.
fn near_misses(text: &str, markers: &[kms::config::Marker<'_>]) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let mut i = 0;
    while let Some(off) = text[i..].find("{{") {
        let start = i + off;
        i = start + 2;
        let mut j = start + 2;
        while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'\t') {
            j += 1;
        }
        let word = b"encrypt";
        if bytes.len() < j + word.len() || !bytes[j..j + word.len()].eq_ignore_ascii_case(word) {
            continue;
        }
        j += word.len();
        while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'\t') {
            j += 1;
        }
        if bytes.get(j) != Some(&b'(') || markers.iter().any(|m| m.range.start == start) {
            continue;
        }
        let line = text[..start].matches('\n').count() + 1;
        if lines.last() != Some(&line) {
            lines.push(line);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::near_misses;

    #[test]
    fn near_misses_are_found_and_markers_are_not() {
        let t = "a = \"{{encrypt(ok)}}\"\nb = \"{{ encrypt(x) }}\"\nc = {{ENCRYPT(y)}}\nd = {{encrypt(z)}\ne = {{decrypt(w)}} {{encrypted}}\n";
        let m = kms::config::find_markers(t, "encrypt");
        assert_eq!(m.len(), 1);
        assert_eq!(near_misses(t, &m), vec![2, 3, 4]);
        assert!(near_misses(
            "x = {{encrypt(a)}} {{encrypt(b)}}",
            &kms::config::find_markers("x = {{encrypt(a)}} {{encrypt(b)}}", "encrypt")
        )
        .is_empty());
    }
}
