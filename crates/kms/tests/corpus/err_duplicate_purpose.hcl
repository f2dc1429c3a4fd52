kms "aead" {
  purpose = "root, recovery"
  key     = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE="
  key_id  = "a"
}

kms "awskms" {
  purpose    = ["root", "downstream-worker-auth"]
  kms_key_id = "alias/b"
}

kms "awskms" {
  purpose    = "downstream-worker-auth, recovery"
  kms_key_id = "alias/c"
}
