//! `kms inspect`: what a ciphertext says, without any key.

use std::process::ExitCode;

use kms::envelope::ciphertext::ValueInfo;
use kms::envelope::stream::StreamInfo;
use kms::envelope::Ciphertext;
use serde_json::{json, Value};

use super::common::read_ciphertext;
use crate::cli::InspectArgs;
use crate::display::{key_id, one_line};
use crate::failure::{CliResult, Failure};
use crate::io::open_input;

pub(crate) fn inspect(a: InspectArgs) -> CliResult<ExitCode> {
    let mut input = open_input(a.input.as_deref())?;
    let name = input.name.clone();
    let mut report = match read_ciphertext(&name, &mut input.reader)? {
        Ciphertext::Stream(header) => {
            let body_len = match input.len {
                Some(total) => total.saturating_sub(header.header_bytes() as u64),
                None => std::io::copy(&mut input.reader, &mut std::io::sink())
                    .map_err(|e| Failure::op(format!("{name}: {e}")))?,
            };
            stream_report(&header.info(body_len))
        }
        Ciphertext::Value(v) => value_report(&v.info()),
    };
    if a.json {
        report["ok"] = Value::Bool(true);
        crate::report::emit(&report);
    } else {
        print_text(&report);
    }
    Ok(ExitCode::SUCCESS)
}

fn stream_report(info: &StreamInfo) -> Value {
    json!({
        "format": "kms-stream",
        "version": info.version,
        "purpose": info.purpose.as_str(),
        "aad_bound": info.aad_bound,
        "header_bytes": info.header_bytes,
        "segment_size": info.segment_size,
        "segment_bytes": info.segment_bytes,
        "segments": info.segments,
        "body_bytes": info.body_bytes,
        "body_valid_length": info.segments.is_some(),
        "wrapped_keys": info.wrapped_keys.iter().map(|e| json!({"kind": e.kind.as_str(), "key_id": e.key_id.as_str(), "wrapped_bytes": e.wrapped_bytes})).collect::<Vec<_>>(),
    })
}

fn value_report(v: &ValueInfo) -> Value {
    json!({
        "format": "go-kms-wrapping BlobInfo",
        "version": 2,
        "purpose": Value::Null,
        "bytes": v.bytes,
        "backend_kind": v.kind.as_str(),
        "backend_kind_inferred": true,
        "mechanism": v.mechanism,
        "mechanism_description": v.mechanism_description,
        "is_envelope": v.is_envelope,
        "ciphertext_bytes": v.ciphertext_bytes,
        "iv_bytes": v.iv_bytes,
        "wrapped_key_bytes": v.wrapped_key_bytes,
        "wrapped_keys": [ { "kind": v.kind.as_str(), "key_id": v.key_id.as_str() } ],
    })
}

fn print_text(v: &Value) {
    let Some(obj) = v.as_object() else { return };
    for (k, val) in obj {
        match (k.as_str(), val) {
            ("wrapped_keys", Value::Array(keys)) => {
                for (i, key) in keys.iter().enumerate() {
                    // Unauthenticated: escaped, so no control character or forged line
                    // reaches the terminal (the JSON output carries it exactly).
                    let id = key_id(key["key_id"].as_str().unwrap_or(""));
                    println!(
                        "wrapped_key[{i}]: {} {id}",
                        one_line(key["kind"].as_str().unwrap_or("?"))
                    );
                }
            }
            ("backend_kind", Value::String(s)) => {
                println!("backend_kind: {s} (inferred: a BlobInfo does not name its backend)")
            }
            (_, Value::String(s)) => println!("{k}: {}", one_line(s)),
            (_, other) => println!("{k}: {other}"),
        }
    }
}
