# Key rotation: a new root in AWS KMS, the old aead root kept as previous-root.
kms "awskms" {
  purpose    = "root"
  region     = "us-east-1"
  kms_key_id = "alias/boundary-root"
}

# The old root key, used only to decrypt older data.
kms "aead" {
  purpose = "previous-root"
  key     = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE="
  key_id  = "global_root"
}
