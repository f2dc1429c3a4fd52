//! Maps a resolved `awskms` stanza (kms-config) onto kms-aws options. Neither crate knows the
//! other; this is the one place they meet.

use std::sync::Arc;

use kms_aws::{AwsKms, AwsKmsOptions};
use kms_config::AwsKmsConfig;
use kms_core::{Backend, Result};

/// The kms-aws options for a stanza.
pub fn options(c: &AwsKmsConfig) -> AwsKmsOptions {
    let mut o = AwsKmsOptions::default();
    o.kms_key_id = c.kms_key_id.as_ref().map(|s| s.value.clone());
    o.region = c.region.as_ref().map(|s| s.value.clone());
    o.region_source = c.region.as_ref().map(|s| s.source.to_string());
    o.endpoint = c.endpoint.as_ref().map(|s| s.value.clone());
    o.endpoint_source = c.endpoint.as_ref().map(|s| s.source.to_string());
    if let Some(cred) = &c.credentials {
        o.credentials_source = Some(match cred.source {
            kms_config::Source::Stanza => "stanza".to_owned(),
            kms_config::Source::Env(_) => "env".to_owned(),
        });
        o.access_key = Some(cred.access_key.clone());
        o.secret_key = Some(cred.secret_key.expose_secret().to_owned().into());
        o.session_token = cred
            .session_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned().into());
    }
    o.shared_creds_filename = c.shared_creds_filename.clone();
    o.shared_creds_profile = c.shared_creds_profile.clone();
    o.role_arn = c.role_arn.clone();
    o.role_session_name = c.role_session_name.clone();
    o.web_identity_token_file = c.web_identity_token_file.clone();
    o.ignore_env = c.disallow_env_vars;
    o
}

/// Builds the backend: connected now (DescribeKey) when it will encrypt, lazily otherwise.
pub(crate) async fn build(c: &AwsKmsConfig, eager: bool) -> Result<Arc<dyn Backend>> {
    let opts = options(c);
    if eager {
        Ok(Arc::new(AwsKms::connect(opts).await?))
    } else {
        Ok(Arc::new(AwsKms::connect_lazy(opts).await?))
    }
}
