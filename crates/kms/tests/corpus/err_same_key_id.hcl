# aead: the same key_id; awskms: the same resolved KMS key (kms_key_id vs key_id);
# and the same aead key under different ids.
kms "aead" {
  purpose = "root"
  key     = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE="
  key_id  = "global_root"
}
kms "aead" {
  purpose = "previous-root"
  key     = "d8p8F1KCBdo+dt02M0mFgA3017LmUgnz6wTEyLq88VY="
  key_id  = "global_root"
}
kms "aead" {
  purpose = "previous-root"
  key     = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE="
  key_id  = "renamed"
}
