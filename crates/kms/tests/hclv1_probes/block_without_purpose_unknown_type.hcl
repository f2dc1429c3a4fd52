# probe: a block of an unknown type without purpose: Boundary never sets it up
kms "nosuchkms" {
  key_id = "x"
}
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
