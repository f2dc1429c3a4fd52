# probe: an hsm previous-root with the root's key id: "must have different key IDs"
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
hsm "aead" {
  purpose = "previous-root"
  key     = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE="
  key_id  = "k1"
}
