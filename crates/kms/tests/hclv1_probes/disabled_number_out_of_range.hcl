# probe: a disabled block with an integer beyond int64: Boundary ignores disabled and its decoder refuses the file
kms "aead" {
  purpose  = "bsr"
  key_id   = 9223372036854775808
  disabled = true
}
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
