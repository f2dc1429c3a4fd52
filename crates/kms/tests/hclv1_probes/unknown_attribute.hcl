# probe: an unknown attribute in a kms block: Boundary ignores it
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
  unknown_attr = "x"
}
