# An AWS KMS config, as Boundary documents it. Credentials and region may also come from
# the environment, a shared credentials profile, web identity, ECS or EC2 metadata.
kms "awskms" {
  purpose    = "root"
  region     = "us-east-1"
  kms_key_id = "alias/boundary-root"
}

# The old root key, used only to decrypt older data (rotation).
kms "aead" {
  purpose = "previous-root"
  key     = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE="
  key_id  = "global_root"
}
