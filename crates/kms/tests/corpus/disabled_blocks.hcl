# Disabled blocks are skipped entirely, garbage included.
kms "aead" {
  disabled = true
  purpose  = "rooot"
  key      = "CANARY-not-a-key"
  kms_keyid = "x"
}

kms "gcpckms" {
  disabled = "true"
  purpose  = "root"
}

kms "awskms" {
  purpose  = ["root", "recovery"]
  disabled = "env://TEST_DISABLE"
  secret_key = "CANARY"
}

kms "aead" {
  purpose = "root"
  key     = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE="
  key_id  = "global_root"
  disabled = false
}

