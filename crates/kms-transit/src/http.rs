//! The HTTP client: hyper 1 with hyper-rustls (the stack the AWS SDK already builds), the
//! token and namespace headers, bounded retries and timeouts, and bounded response bodies.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use kms_core::{Error, Result, SecretString};
use zeroize::Zeroizing;

use crate::options::{Timeouts, TransitOptions};

/// The largest response body read: a 1 MiB value's ciphertext is about 1.4 MB of JSON.
const MAX_RESPONSE: usize = 8 << 20;

/// A failed call, before it is given meaning by the operation (errors.rs).
#[derive(Debug)]
pub(crate) enum Failure {
    /// No complete response: refused, reset, timed out, TLS failed.
    Transport {
        /// What happened, with the causes (never a header or a body).
        cause: String,
        /// Certificate or handshake failures: trying again will not help.
        tls: bool,
    },
    /// The server answered with an error status.
    Status {
        /// The HTTP status.
        status: u16,
        /// The `errors` of Vault's error envelope.
        messages: Vec<String>,
    },
    /// A response we cannot read (not JSON, too large).
    Protocol(String),
}

impl Failure {
    fn retryable(&self) -> bool {
        match self {
            Failure::Transport { tls, .. } => !tls,
            Failure::Status { status, .. } => *status >= 500 || *status == 429,
            Failure::Protocol(_) => false,
        }
    }
}

/// A client for one server, token and namespace.
pub(crate) struct Http {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    base: String,
    /// `base` for messages: a `user:password@` in it is redacted.
    shown: String,
    token: Option<SecretString>,
    namespace: Option<String>,
    timeouts: Timeouts,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("base", &self.shown)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

/// Percent-encodes a path segment (`/` kept: mounts may be nested).
pub(crate) fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn cause_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = s.source();
    }
    parts.join(": ")
}

fn is_tls_failure(cause: &str) -> bool {
    let c = cause.to_ascii_lowercase();
    c.contains("certificate") || c.contains("handshake") || c.contains("tls")
}

/// One server message on one line: Vault's multi-errors (`1 error occurred:\n\t* text\n\n`)
/// become their items, anything else is cut and escaped.
fn clean_message(m: &str) -> String {
    let items: Vec<&str> = m
        .lines()
        .filter_map(|l| l.trim().strip_prefix("* "))
        .collect();
    let m = if m.contains("error occurred") || m.contains("errors occurred") {
        items.join("; ")
    } else {
        m.trim().to_owned()
    };
    let m: String = m.chars().take(300).collect();
    m.escape_debug().to_string()
}

impl Http {
    /// A client for `opts` (no request yet).
    ///
    /// # Errors
    /// [`Error::Config`] for TLS settings that cannot be read.
    pub(crate) fn new(opts: &TransitOptions) -> Result<Http> {
        let tls = crate::tls::client_config(&opts.tls)?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(opts.timeouts.connect));
        let builder = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http();
        let builder = match &opts.tls.server_name {
            Some(name) => {
                let name = rustls::pki_types::ServerName::try_from(name.value.clone())
                    .map_err(|e| Error::Config(format!("tls_server_name {:?}: {e}", name.value)))?;
                builder.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name))
            }
            None => builder,
        };
        let connector = builder.enable_http1().wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        let base = opts.address.value.trim_end_matches('/').to_owned();
        Ok(Http {
            client,
            shown: kms_core::stanza::redact_userinfo(&base),
            base,
            token: opts.token.as_ref().map(|t| t.value.clone()),
            namespace: opts.namespace.as_ref().map(|n| n.value.clone()),
            timeouts: opts.timeouts,
        })
    }

    /// The server address, as configured (no trailing slash).
    pub(crate) fn address(&self) -> &str {
        &self.shown
    }

    fn request(&self, method: &Method, path: &str, body: &Bytes) -> Result<Request<Full<Bytes>>> {
        let uri = format!("{}/v1/{}", self.base, encode_path(path));
        let mut req = Request::builder()
            .method(method.clone())
            .uri(&uri)
            .header(HeaderName::from_static("x-vault-request"), "true");
        if !body.is_empty() {
            req = req.header(CONTENT_TYPE, "application/json");
        }
        if let Some(t) = &self.token {
            let mut v = HeaderValue::from_str(t.expose_secret())
                .map_err(|_| Error::Config("token: not a valid HTTP header value".into()))?;
            v.set_sensitive(true);
            req = req.header(HeaderName::from_static("x-vault-token"), v);
        }
        if let Some(ns) = &self.namespace {
            let v = HeaderValue::from_str(ns).map_err(|_| {
                Error::Config(format!("namespace {ns:?}: not a valid header value"))
            })?;
            req = req.header(HeaderName::from_static("x-vault-namespace"), v);
        }
        req.body(Full::new(body.clone()))
            .map_err(|e| Error::Config(format!("address {:?}: {e}", self.shown)))
    }

    async fn attempt(
        &self,
        method: &Method,
        path: &str,
        body: &Bytes,
    ) -> Result<std::result::Result<Zeroizing<Vec<u8>>, Failure>> {
        let req = self.request(method, path, body)?;
        let resp = match self.client.request(req).await {
            Ok(r) => r,
            Err(e) => {
                let cause = cause_chain(&e);
                let tls = is_tls_failure(&cause);
                return Ok(Err(Failure::Transport { cause, tls }));
            }
        };
        let status = resp.status().as_u16();
        let collected = match Limited::new(resp.into_body(), MAX_RESPONSE).collect().await {
            Ok(c) => c.to_bytes(),
            Err(e) => {
                let text = e.to_string();
                return Ok(Err(if text.contains("length limit") {
                    Failure::Protocol(format!("response larger than {MAX_RESPONSE} bytes"))
                } else {
                    Failure::Transport {
                        cause: format!("reading the response: {text}"),
                        tls: false,
                    }
                }));
            }
        };
        let body = Zeroizing::new(collected.to_vec());
        if (200..300).contains(&status) {
            return Ok(Ok(body));
        }
        #[derive(serde::Deserialize)]
        struct Errors {
            #[serde(default)]
            errors: Vec<String>,
        }
        let messages = serde_json::from_slice::<Errors>(&body)
            .map(|e| e.errors)
            .unwrap_or_default()
            .into_iter()
            .map(|m| clean_message(&m))
            .collect();
        Ok(Err(Failure::Status { status, messages }))
    }

    /// Sends `body` (JSON, or empty) to `v1/<path>`, retrying unreachable servers, timeouts,
    /// 5xx and 429 within [`Timeouts`]; returns the response body of a 2xx.
    ///
    /// # Errors
    /// `Ok(Err(failure))` for a failed call, to be given meaning by the caller;
    /// `Err` for a request that cannot be built (a config problem).
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<std::result::Result<Zeroizing<Vec<u8>>, Failure>> {
        let t = self.timeouts;
        let run = async {
            let mut last = None;
            for n in 0..t.attempts.max(1) {
                if n > 0 {
                    tokio::time::sleep(Duration::from_millis(200 << (n - 1).min(4))).await;
                }
                let failure =
                    match tokio::time::timeout(t.attempt, self.attempt(&method, path, &body)).await
                    {
                        Ok(Ok(Ok(reply))) => return Ok(Ok(reply)),
                        Ok(Ok(Err(f))) => f,
                        Ok(Err(e)) => return Err(e),
                        Err(_) => Failure::Transport {
                            cause: format!("no response within {:?}", t.attempt),
                            tls: false,
                        },
                    };
                if !failure.retryable() {
                    return Ok(Err(failure));
                }
                tracing::debug!(path, attempt = n + 1, "transit call failed, retrying");
                last = Some(failure);
            }
            Ok(Err(
                last.unwrap_or(Failure::Protocol("no attempt made".into()))
            ))
        };
        match tokio::time::timeout(t.operation, run).await {
            Ok(r) => r,
            Err(_) => Ok(Err(Failure::Transport {
                cause: format!("no answer within {:?} (all attempts)", t.operation),
                tls: false,
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn messages_are_one_line() {
        assert_eq!(
            super::clean_message("1 error occurred:\n\t* permission denied\n\n"),
            "permission denied"
        );
        assert_eq!(super::clean_message("a\nb"), "a\\nb");
        assert_eq!(
            super::encode_path("transit/encrypt/a b"),
            "transit/encrypt/a%20b"
        );
    }
}
