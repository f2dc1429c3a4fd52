# probe: a disabled root block is still the root for Boundary
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
  disabled = true
}
kms "aead" {
  purpose = "previous-root"
  key     = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE="
  key_id  = "k2"
}
