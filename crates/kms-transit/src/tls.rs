//! The rustls client configuration for a transit wrapper, on the aws-lc-rs provider: the
//! system roots, or only the configured CA (as Go's api client does), an optional client
//! certificate, and `tls_skip_verify`.

use std::io::Read;
use std::sync::Arc;

use kms_core::{Error, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::options::{is_pem, TlsOptions};

/// The largest certificate or key file read.
const MAX_PEM_FILE: u64 = 1 << 20;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A PEM setting's bytes: the text itself, or the file it names (bounded). A secret
/// setting's value may be the key itself, so its error never shows it.
fn pem_bytes(setting: &str, value: &str, secret: bool) -> Result<Vec<u8>> {
    if is_pem(value) {
        return Ok(value.as_bytes().to_vec());
    }
    read_bounded(value).map_err(|e| {
        let shown = if secret { "the file it names" } else { value };
        Error::Config(format!("{setting}: cannot read {shown}: {e}"))
    })
}

fn read_bounded(path: &str) -> std::io::Result<Vec<u8>> {
    let f = std::fs::File::open(path)?;
    if !f.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut out = Vec::new();
    f.take(MAX_PEM_FILE + 1).read_to_end(&mut out)?;
    if out.len() as u64 > MAX_PEM_FILE {
        return Err(std::io::Error::other(format!(
            "larger than {MAX_PEM_FILE} bytes"
        )));
    }
    Ok(out)
}

fn certs(setting: &str, where_: &str, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::Config(format!("{setting}: {where_}: not PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(Error::Config(format!(
            "{setting}: {where_}: no PEM certificate in it"
        )));
    }
    Ok(certs)
}

fn add_all(store: &mut RootCertStore, setting: &str, where_: &str, pem: &[u8]) -> Result<()> {
    for c in certs(setting, where_, pem)? {
        store
            .add(c)
            .map_err(|e| Error::Config(format!("{setting}: {where_}: {e}")))?;
    }
    Ok(())
}

fn roots(tls: &TlsOptions) -> Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    if tls.ca_cert.is_none() && tls.ca_path.is_none() {
        // Unreadable system certificates are skipped: a server they would have verified is
        // refused with a certificate error, which names the address.
        let native = rustls_native_certs::load_native_certs();
        store.add_parsable_certificates(native.certs);
        return Ok(store);
    }
    if let Some(ca) = &tls.ca_cert {
        let where_ = if is_pem(&ca.value) {
            "PEM text"
        } else {
            &ca.value
        };
        add_all(
            &mut store,
            "tls_ca_cert",
            where_,
            &pem_bytes("tls_ca_cert", &ca.value, false)?,
        )?;
    }
    if let Some(dir) = &tls.ca_path {
        let entries = std::fs::read_dir(&dir.value)
            .map_err(|e| Error::Config(format!("tls_ca_path: cannot read {}: {e}", dir.value)))?;
        for entry in entries {
            let path = entry
                .map_err(|e| Error::Config(format!("tls_ca_path: {}: {e}", dir.value)))?
                .path();
            if !path.is_file() {
                continue;
            }
            let shown = path.display().to_string();
            let pem = read_bounded(&shown)
                .map_err(|e| Error::Config(format!("tls_ca_path: cannot read {shown}: {e}")))?;
            add_all(&mut store, "tls_ca_path", &shown, &pem)?;
        }
    }
    Ok(store)
}

/// The client configuration for `tls`.
///
/// # Errors
/// [`Error::Config`] naming the setting for unreadable or unparsable certificates and keys.
pub(crate) fn client_config(tls: &TlsOptions) -> Result<ClientConfig> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Internal(format!("TLS setup: {e}")))?;
    let builder = if tls.skip_verify.as_ref().is_some_and(|s| s.value) {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider())))
    } else {
        builder.with_root_certificates(roots(tls)?)
    };
    match (&tls.client_cert, &tls.client_key) {
        (Some(cert), Some(key)) => {
            let chain = certs(
                "tls_client_cert",
                "client certificate",
                &pem_bytes("tls_client_cert", &cert.value, false)?,
            )?;
            let key_text = key.value.expose_secret();
            let key_pem = zeroize::Zeroizing::new(pem_bytes("tls_client_key", key_text, true)?);
            let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| {
                // The value may be the key itself: never shown.
                Error::Config("tls_client_key: not a PEM private key".into())
            })?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| Error::Config(format!("tls_client_cert / tls_client_key: {e}")))
        }
        _ => Ok(builder.with_no_client_auth()),
    }
}

/// `tls_skip_verify = true`: any certificate is accepted; signatures are still checked, so
/// the handshake itself is sound.
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
