//! Failed transit calls onto kms-core's semantic errors, by HTTP status and Vault's stable
//! error texts. Every message names the server, the path and, for a refusal, where the token
//! came from; none holds the token, a plaintext or a ciphertext.

use kms_core::Error;

use crate::http::Failure;

/// What a call was doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Encrypt,
    Decrypt,
    Rewrap,
    ReadKey,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Encrypt => "encrypt",
            Op::Decrypt => "decrypt",
            Op::Rewrap => "rewrap",
            Op::ReadKey => "read key",
        }
    }

    /// The policy capability the path needs.
    fn capability(self) -> &'static str {
        match self {
            Op::ReadKey => "read",
            _ => "update",
        }
    }
}

/// Where a call went, for messages.
pub(crate) struct Place<'a> {
    pub address: &'a str,
    pub namespace: Option<&'a str>,
    pub path: &'a str,
    pub key: &'a str,
    pub token_source: &'a str,
}

impl Place<'_> {
    fn at(&self) -> String {
        match self.namespace {
            Some(ns) => format!("{} (namespace {ns})", self.address),
            None => self.address.to_owned(),
        }
    }
}

fn joined(messages: &[String]) -> String {
    if messages.is_empty() {
        "(no message)".to_owned()
    } else {
        messages.join("; ")
    }
}

/// Whether Vault refused a ciphertext as not authentic or not well formed.
pub(crate) fn is_decrypt_failure(messages: &[String]) -> bool {
    messages.iter().any(|m| {
        m.contains("message authentication failed")
            || m.contains("invalid ciphertext")
            || m.contains("illegal base64")
    })
}

/// Whether Vault refused a ciphertext as older than `min_decryption_version`.
pub(crate) fn is_too_old(messages: &[String]) -> bool {
    messages
        .iter()
        .any(|m| m.contains("disallowed by policy (too old)"))
}

pub(crate) fn map_failure(f: Failure, op: Op, p: &Place<'_>) -> Error {
    let at = p.at();
    match f {
        Failure::Transport { cause, tls: true } => Error::Backend(format!(
            "transit {} at {at}: TLS failed: {cause}; check tls_ca_cert / VAULT_CACERT and tls_server_name",
            op.name()
        )),
        Failure::Transport { cause, tls: false } => Error::Unavailable(format!(
            "transit {} at {at}: cannot reach the server: {cause}",
            op.name()
        )),
        Failure::Protocol(m) => Error::Backend(format!(
            "transit {} at {at}, v1/{}: unreadable response: {m}",
            op.name(),
            p.path
        )),
        Failure::Status { status, messages } => {
            let msg = joined(&messages);
            match status {
                403 => Error::PermissionDenied(format!(
                    "transit {} at {at}: v1/{} refused (403: {msg}) for the {}; its policy needs capability \"{}\" on path \"{}\"",
                    op.name(),
                    p.path,
                    p.token_source,
                    op.capability(),
                    p.path
                )),
                400 if matches!(op, Op::Decrypt | Op::Rewrap) && is_decrypt_failure(&messages) => {
                    Error::DecryptFailed
                }
                400 if messages.iter().any(|m| m.contains("encryption key not found")) => {
                    Error::NotFound(format!(
                        "transit key {:?} not found at {at} (v1/{})",
                        p.key, p.path
                    ))
                }
                404 => Error::NotFound(format!(
                    "transit {} at {at}: v1/{} does not exist (404); is a transit engine mounted at that path, and the key created?",
                    op.name(),
                    p.path
                )),
                429 => Error::Throttled(format!(
                    "transit {} at {at}: v1/{}: rate limited (429: {msg})",
                    op.name(),
                    p.path
                )),
                503 if msg.contains("sealed") => Error::Unavailable(format!(
                    "transit {} at {at}: the server is sealed (503)",
                    op.name()
                )),
                s if s >= 500 => Error::Unavailable(format!(
                    "transit {} at {at}: v1/{}: server error ({s}: {msg})",
                    op.name(),
                    p.path
                )),
                s => Error::Backend(format!(
                    "transit {} at {at}: v1/{} failed ({s}: {msg})",
                    op.name(),
                    p.path
                )),
            }
        }
    }
}
