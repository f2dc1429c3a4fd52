//! SDK errors into kms-core's semantic errors, through the SDK's error metadata (`code()`)
//! and `SdkError` variants, never through message text. No credential ever reaches a message.

use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use kms_core::Error;

#[derive(Clone, Copy, Debug)]
pub(crate) enum Op {
    DescribeKey,
    Encrypt,
    Decrypt,
    ReEncrypt,
    GenerateDataKey,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::DescribeKey => "DescribeKey",
            Op::Encrypt => "Encrypt",
            Op::Decrypt => "Decrypt",
            Op::ReEncrypt => "ReEncrypt",
            Op::GenerateDataKey => "GenerateDataKey",
        }
    }

    /// The IAM permission the operation needs.
    fn permission(self) -> &'static str {
        match self {
            Op::DescribeKey => "kms:DescribeKey",
            Op::Encrypt => "kms:Encrypt",
            Op::Decrypt => "kms:Decrypt",
            Op::ReEncrypt => "kms:ReEncryptFrom and kms:ReEncryptTo",
            Op::GenerateDataKey => "kms:GenerateDataKey",
        }
    }
}

pub(crate) fn map_sdk_error<E>(
    err: SdkError<E, aws_sdk_kms::config::http::HttpResponse>,
    op: Op,
    key: &str,
    place: &str,
) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let key = if key.is_empty() {
        "(key from the ciphertext)"
    } else {
        key
    };
    match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let code = e.code().unwrap_or("Unknown");
            let msg = e.message().unwrap_or("");
            match code {
                "NotFoundException" => Error::NotFound(format!(
                    "KMS key {key} not found ({place}): check kms_key_id, and the region (region = \"...\" in the stanza, or AWS_REGION)"
                )),
                "AccessDeniedException" if matches!(op, Op::Decrypt | Op::ReEncrypt) => Error::PermissionDenied(format!(
                    "KMS {} of data under {key} was denied ({place}): the caller likely lacks {} on that key, or the data was wrapped under another key",
                    op.name(),
                    op.permission()
                )),
                "AccessDeniedException" => Error::PermissionDenied(format!(
                    "KMS {} on {key} was denied ({place}): the caller likely lacks {}; grant it in the key policy or IAM",
                    op.name(),
                    op.permission()
                )),
                "InvalidCiphertextException" | "IncorrectKeyException" => Error::DecryptFailed,
                "DisabledException" | "KMSInvalidStateException" | "KeyUnavailableException" => {
                    Error::KeyUnusable(format!("KMS key {key} cannot be used: {code}: {msg}"))
                }
                "InvalidKeyUsageException" => Error::KeyUnusable(format!("KMS key {key} cannot {}: {msg}", op.name())),
                "ThrottlingException" | "LimitExceededException" | "RequestLimitExceeded" => {
                    Error::Throttled(format!("KMS {} on {key} throttled after retries ({place})", op.name()))
                }
                "KMSInternalException" | "DependencyTimeoutException" | "InternalFailure" | "ServiceUnavailable" => {
                    Error::Unavailable(format!("KMS {} failed after retries ({place}): {code}", op.name()))
                }
                "NotAuthorized" | "UnrecognizedClientException" | "InvalidClientTokenId" | "ExpiredTokenException" => {
                    Error::PermissionDenied(format!(
                        "KMS rejected the credentials ({place}): {code}; check access_key/secret_key in the stanza, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_PROFILE"
                    ))
                }
                // An unrecognised answer with a 5xx or 429 status (e.g. a load balancer's HTML
                // page) is the service being unavailable, after the SDK's retries.
                _ if service.raw().status().is_server_error() || service.raw().status().as_u16() == 429 => {
                    Error::Unavailable(format!(
                        "KMS {} failed after retries ({place}): HTTP {}",
                        op.name(),
                        service.raw().status().as_u16()
                    ))
                }
                _ => Error::Backend(format!("KMS {} on {key} failed ({place}): {code}: {msg}", op.name())),
            }
        }
        SdkError::TimeoutError(_) => {
            Error::Unavailable(format!("KMS {} timed out ({place})", op.name()))
        }
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => Error::Unavailable(format!(
            "cannot reach KMS for {} ({place}): {}",
            op.name(),
            causes(&err)
        )),
        SdkError::ConstructionFailure(_) => Error::Config(format!(
            "cannot build the KMS {} request: {}",
            op.name(),
            causes(&err)
        )),
        _ => Error::Backend(format!(
            "KMS {} failed ({place}): {}",
            op.name(),
            causes(&err)
        )),
    }
}

/// The error and its causes, each by its `Display`, on one line: what
/// `DisplayErrorContext` says without the `Debug` dump it appends. A cause that repeats the
/// previous one's text is left out.
fn causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if !text.is_empty() && !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    crate::options::redact_userinfo_in(&parts.join(": "))
}
