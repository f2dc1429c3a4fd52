//! Options and the SDK client: credentials, region, endpoint, FIPS, retries, timeouts.

use std::fmt;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, Region};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use kms_core::stanza::userinfo_range;
use kms_core::{Error, Result};
use zeroize::Zeroizing;

pub(crate) use kms_core::stanza::redact_userinfo;

/// The region used when no source gives one, as Boundary documents.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Settings of an AWS KMS wrapper. Whatever is `None` is left to aws-config's chains.
/// `Debug` leaves out the secret key and the session token.
#[derive(Clone)]
#[non_exhaustive]
pub struct AwsKmsOptions {
    /// The key: key id, key ARN, alias name (`alias/x`) or alias ARN.
    pub kms_key_id: Option<String>,
    /// The region.
    pub region: Option<String>,
    /// Where `region` came from, for `kms check` (e.g. "stanza", "env AWS_REGION").
    pub region_source: Option<String>,
    /// An endpoint override (VPC endpoints, emulators).
    pub endpoint: Option<String>,
    /// Where `endpoint` came from.
    pub endpoint_source: Option<String>,
    /// Static access key id.
    pub access_key: Option<String>,
    /// Static secret access key.
    pub secret_key: Option<Zeroizing<String>>,
    /// Static session token.
    pub session_token: Option<Zeroizing<String>>,
    /// Where the static credentials came from ("stanza", "env").
    pub credentials_source: Option<String>,
    /// A shared credentials file to read instead of `~/.aws/credentials`.
    pub shared_creds_filename: Option<String>,
    /// The profile to use instead of `AWS_PROFILE` / `default`.
    pub shared_creds_profile: Option<String>,
    /// A role to assume (with web identity when `web_identity_token_file` is set).
    pub role_arn: Option<String>,
    /// The session name for the assumed role.
    pub role_session_name: Option<String>,
    /// A web identity token file (IRSA).
    pub web_identity_token_file: Option<String>,
    /// Ignore credential and region environment variables.
    pub ignore_env: bool,
    /// How long to wait for a TCP connection.
    pub connect_timeout: Duration,
    /// How long one attempt may take.
    pub attempt_timeout: Duration,
    /// How long an operation may take, retries included.
    pub operation_timeout: Duration,
    /// Attempts per operation (standard retry mode).
    pub max_attempts: u32,
}

impl Default for AwsKmsOptions {
    fn default() -> Self {
        AwsKmsOptions {
            kms_key_id: None,
            region: None,
            region_source: None,
            endpoint: None,
            endpoint_source: None,
            access_key: None,
            secret_key: None,
            session_token: None,
            credentials_source: None,
            shared_creds_filename: None,
            shared_creds_profile: None,
            role_arn: None,
            role_session_name: None,
            web_identity_token_file: None,
            ignore_env: false,
            connect_timeout: Duration::from_secs(3),
            attempt_timeout: Duration::from_secs(10),
            operation_timeout: Duration::from_secs(25),
            max_attempts: 3,
        }
    }
}

impl fmt::Debug for AwsKmsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsKmsOptions")
            .field("kms_key_id", &self.kms_key_id)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint.as_deref().map(redact_userinfo))
            .field("access_key", &self.access_key)
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "[REDACTED]"),
            )
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("shared_creds_filename", &self.shared_creds_filename)
            .field("shared_creds_profile", &self.shared_creds_profile)
            .field("role_arn", &self.role_arn)
            .field("web_identity_token_file", &self.web_identity_token_file)
            .field("ignore_env", &self.ignore_env)
            .finish_non_exhaustive()
    }
}

/// Where a wrapper's settings came from, for `kms check`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sources {
    /// The region in use.
    pub region: String,
    /// Its source: "stanza", "env AWS_REGION", "SDK default chain", or "kms default".
    pub region_source: String,
    /// The endpoint override, if any.
    pub endpoint: Option<String>,
    /// Its source, or "SDK default" without an override.
    pub endpoint_source: String,
    /// The credential source: "stanza", "env", "profile NAME", "web identity", "assume role",
    /// or "SDK default chain (...)".
    pub credentials: String,
    /// Whether FIPS endpoints are in use.
    pub fips: bool,
}

impl Sources {
    /// The endpoint for messages.
    pub fn endpoint_shown(&self) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| format!("AWS KMS default for {}", self.region))
    }
}

fn env(name: &str, ignore: bool) -> Option<String> {
    if ignore {
        return None;
    }
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Builds the SDK client for `opts`, and says where each setting came from.
pub(crate) async fn build_client(opts: &AwsKmsOptions) -> Result<(aws_sdk_kms::Client, Sources)> {
    let (region, region_source) = region(opts).await;
    let loader = base_loader(opts).region(Region::new(region.clone()));
    let (mut loader, credentials) = credentials(loader, opts, &region).await;
    let (endpoint, endpoint_source) = endpoint(opts);
    // The SDK gets the endpoint without its userinfo (SigV4 sets Authorization, so Go's
    // client never sends it either), so no SDK log line can carry a password in it.
    match (&opts.endpoint, &endpoint) {
        (Some(e), _) => loader = loader.endpoint_url(strip_userinfo(e)),
        (None, Some(e)) if userinfo_range(e).is_some() => {
            loader = loader.endpoint_url(strip_userinfo(e));
        }
        _ => {}
    }
    let endpoint = endpoint.map(|e| redact_userinfo(&e));
    let conf = loader.load().await;
    let fips = conf.use_fips().unwrap_or(false)
        || env("AWS_USE_FIPS_ENDPOINT", opts.ignore_env)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if fips && endpoint.is_some() {
        return Err(Error::Config(format!(
            "FIPS endpoints (AWS_USE_FIPS_ENDPOINT or the profile's use_fips_endpoint) cannot be combined with a custom endpoint ({}, from {endpoint_source}); remove one",
            endpoint.as_deref().unwrap_or_default()
        )));
    }
    let client = aws_sdk_kms::Client::new(&conf);
    Ok((
        client,
        Sources {
            region,
            region_source,
            endpoint,
            endpoint_source,
            credentials,
            fips,
        },
    ))
}

/// The loader with our retries and timeouts, and the profile and credentials file to read.
fn base_loader(opts: &AwsKmsOptions) -> ConfigLoader {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(opts.max_attempts.max(1)))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(opts.connect_timeout)
                .operation_attempt_timeout(opts.attempt_timeout)
                .operation_timeout(opts.operation_timeout)
                .build(),
        );
    if let Some(p) = &opts.shared_creds_profile {
        loader = loader.profile_name(p);
    }
    if let Some(f) = &opts.shared_creds_filename {
        loader = loader.profile_files(credentials_file(f));
    }
    loader
}

/// The profile files with `file` as the credentials file (the default config file stays).
fn credentials_file(file: &str) -> EnvConfigFiles {
    EnvConfigFiles::builder()
        .with_file(EnvConfigFileKind::Credentials, file)
        .include_default_config_file(true)
        .build()
}

/// The region and its source: options, then (unless ignored) the SDK chain (env, profile,
/// IMDS), then ours.
async fn region(opts: &AwsKmsOptions) -> (String, String) {
    if let Some(r) = &opts.region {
        let source = opts
            .region_source
            .clone()
            .unwrap_or_else(|| "stanza".into());
        return (r.clone(), source);
    }
    let chained = if opts.ignore_env {
        let mut b = aws_config::profile::ProfileFileRegionProvider::builder();
        if let Some(p) = &opts.shared_creds_profile {
            b = b.profile_name(p);
        }
        aws_config::meta::region::ProvideRegion::region(&b.build()).await
    } else {
        let mut b = aws_config::default_provider::region::DefaultRegionChain::builder();
        if let Some(p) = &opts.shared_creds_profile {
            b = b.profile_name(p);
        }
        b.build().region().await
    };
    match chained {
        Some(r) => (r.to_string(), "SDK default chain".to_owned()),
        None => (DEFAULT_REGION.to_owned(), "kms default".to_owned()),
    }
}

/// Sets the credentials provider, in the standard order (static, web identity, assume role,
/// the chain without environment), or leaves the SDK's default chain and names the source it
/// will find.
async fn credentials(
    loader: ConfigLoader,
    opts: &AwsKmsOptions,
    region: &str,
) -> (ConfigLoader, String) {
    if let (Some(ak), Some(sk)) = (&opts.access_key, &opts.secret_key) {
        let creds = Credentials::new(
            ak.clone(),
            sk.as_str(),
            opts.session_token.as_ref().map(|t| t.to_string()),
            None,
            "kms-static",
        );
        let source = opts
            .credentials_source
            .clone()
            .unwrap_or_else(|| "stanza".into());
        return (
            loader.credentials_provider(SharedCredentialsProvider::new(creds)),
            source,
        );
    }
    let session_name = || {
        opts.role_session_name
            .clone()
            .unwrap_or_else(|| "kms".into())
    };
    if let (Some(role), Some(token_file)) = (&opts.role_arn, &opts.web_identity_token_file) {
        let provider =
            aws_config::web_identity_token::WebIdentityTokenCredentialsProvider::builder()
                .static_configuration(aws_config::web_identity_token::StaticConfiguration {
                    web_identity_token_file: token_file.into(),
                    role_arn: role.clone(),
                    session_name: session_name(),
                })
                .configure(
                    &aws_config::provider_config::ProviderConfig::default()
                        .with_region(Some(Region::new(region.to_owned()))),
                )
                .build();
        return (
            loader.credentials_provider(provider),
            format!("web identity, role {role}"),
        );
    }
    if let Some(role) = &opts.role_arn {
        let provider = aws_config::sts::AssumeRoleProvider::builder(role)
            .session_name(session_name())
            .region(Region::new(region.to_owned()))
            .build()
            .await;
        return (
            loader.credentials_provider(provider),
            format!("assume role {role}"),
        );
    }
    if opts.ignore_env {
        let mut profile = aws_config::profile::ProfileFileCredentialsProvider::builder();
        if let Some(p) = &opts.shared_creds_profile {
            profile = profile.profile_name(p);
        }
        if let Some(f) = &opts.shared_creds_filename {
            profile = profile.profile_files(credentials_file(f));
        }
        let chain = aws_config::meta::credentials::CredentialsProviderChain::first_try(
            "Profile",
            profile.build(),
        )
        .or_else(
            "EcsContainer",
            aws_config::ecs::EcsCredentialsProvider::builder().build(),
        )
        .or_else(
            "Ec2InstanceMetadata",
            aws_config::imds::credentials::ImdsCredentialsProvider::builder().build(),
        );
        return (
            loader.credentials_provider(chain),
            "SDK chain without environment (profile, container, instance)".to_owned(),
        );
    }
    (loader, default_chain_source(opts))
}

/// The source the SDK's default credentials chain will use, for `kms check`.
fn default_chain_source(opts: &AwsKmsOptions) -> String {
    let env_keys = env("AWS_ACCESS_KEY_ID", false).is_some();
    if let Some(p) = opts
        .shared_creds_profile
        .clone()
        .or_else(|| env("AWS_PROFILE", false))
    {
        if env_keys {
            "env".to_owned()
        } else {
            format!("profile {p}")
        }
    } else if env_keys {
        "env".to_owned()
    } else if env("AWS_WEB_IDENTITY_TOKEN_FILE", false).is_some() {
        "web identity (env)".to_owned()
    } else if env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", false)
        .or_else(|| env("AWS_CONTAINER_CREDENTIALS_FULL_URI", false))
        .is_some()
    {
        "container".to_owned()
    } else {
        "SDK default chain (profile default, else instance)".to_owned()
    }
}

/// `text` with the userinfo of every URL in it redacted.
pub(crate) fn redact_userinfo_in(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        // The URL's scheme starts after the last white space before "://".
        let start = rest[..i].rfind(char::is_whitespace).map_or(0, |w| w + 1);
        out.push_str(&rest[..start]);
        let end = rest[i..]
            .find(char::is_whitespace)
            .map_or(rest.len(), |e| i + e);
        out.push_str(&redact_userinfo(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// `url` without its userinfo.
fn strip_userinfo(url: &str) -> String {
    match userinfo_range(url) {
        Some(r) => format!("{}{}", &url[..r.start], &url[r.end..]),
        None => url.to_owned(),
    }
}

/// The endpoint override and its source: options, then (unless ignored) the environment.
/// Only the options' endpoint is set on the loader; the SDK reads the environment itself.
fn endpoint(opts: &AwsKmsOptions) -> (Option<String>, String) {
    if let Some(e) = &opts.endpoint {
        let source = opts
            .endpoint_source
            .clone()
            .unwrap_or_else(|| "stanza".into());
        return (Some(e.clone()), source);
    }
    match env("AWS_ENDPOINT_URL_KMS", opts.ignore_env)
        .map(|e| (e, "env AWS_ENDPOINT_URL_KMS"))
        .or_else(|| env("AWS_ENDPOINT_URL", opts.ignore_env).map(|e| (e, "env AWS_ENDPOINT_URL")))
    {
        Some((e, src)) => (Some(e), src.to_owned()),
        None => (None, "SDK default".to_owned()),
    }
}

#[cfg(test)]
mod redaction_tests {
    use super::{redact_userinfo, strip_userinfo};

    #[test]
    fn userinfo_is_redacted_and_stripped() {
        assert_eq!(
            redact_userinfo("http://user:PW@host:9/p?q@x"),
            "http://REDACTED@host:9/p?q@x"
        );
        assert_eq!(strip_userinfo("https://a:b@c@host"), "https://host");
        assert_eq!(redact_userinfo("https://host/a@b"), "https://host/a@b");
        assert_eq!(redact_userinfo("host"), "host");
        assert_eq!(
            super::redact_userinfo_in("at (endpoint http://u:p@h:1), x https://h/"),
            "at (endpoint http://REDACTED@h:1), x https://h/"
        );
    }
}
