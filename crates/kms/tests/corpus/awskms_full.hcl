# Every awskms attribute, values from the stanza, env:// and file:// (paths relative to the
# working directory: cargo runs tests in the crate's directory).
kms "awskms" {
  purpose                 = "root"
  region                  = "ca-central-1"
  access_key              = "AKIAIOSFODNN7EXAMPLE"
  secret_key              = "file://tests/corpus/files/secret_key.txt"
  session_token           = "env://TEST_SESSION_TOKEN"
  kms_key_id              = "alias/boundary-root"
  endpoint                = "https://kms.ca-central-1.amazonaws.com"
  key_id                  = "global_root"
  shared_creds_filename   = "/home/boundary/.aws/credentials"
  shared_creds_profile    = "boundary"
  role_arn                = "arn:aws:iam::111122223333:role/boundary"
  role_session_name       = "boundary-controller"
  web_identity_token_file = "/var/run/secrets/token"
  disallow_env_vars       = "false"
  key_not_required        = false
  disabled                = false
}

kms "awskms" {
  purpose    = "recovery"
  kms_key_id = "file://tests/corpus/files/kms_key_id.txt"
}
