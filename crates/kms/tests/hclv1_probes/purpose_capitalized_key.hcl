# probe: Purpose (capital P) is not purpose: the block has no purpose and Boundary skips it
kms "aead" {
  Purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
kms "aead" {
  purpose = "recovery"
  key     = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE="
  key_id  = "k2"
}
