# A build with only aead compiled in: awskms is an unknown type there.
kms "aead" {
  purpose = "root"
  key     = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE="
}
kms "awskms" {
  purpose    = "recovery"
  kms_key_id = "alias/x"
}
