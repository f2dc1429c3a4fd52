# probe: seal "shamir" with a purpose: Boundary gets a nil wrapper and refuses it
seal "shamir" {
  purpose = "config"
}
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
