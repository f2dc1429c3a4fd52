# probe: a seal block and a kms block with the same purpose: "Duplicate KMS block"
seal "aead" {
  purpose = "worker-auth"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
kms "aead" {
  purpose = "worker-auth"
  key     = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE="
  key_id  = "k2"
}
