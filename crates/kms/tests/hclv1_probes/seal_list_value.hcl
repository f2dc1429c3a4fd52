# probe: a seal block with key_id = ["k0"]: Boundary's decoder refuses the list
seal "aead" {
  purpose = "bsr"
  key_id  = ["k0"]
}
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
