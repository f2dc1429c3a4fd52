controller {
  name = "c"
}

kms "aead" {
  key    = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE="
  key_id = "global_root"
}

kms "awskms" {
  purpose    = " , "
  kms_key_id = "alias/x"
}

kms "awskms" {
  purpose    = []
  kms_key_id = "alias/y"
}

kms "awskms" {
  purpose    = [7]
  kms_key_id = "alias/z"
}
