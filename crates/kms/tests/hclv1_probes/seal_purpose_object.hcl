# probe: a seal block whose purpose is an object: Boundary's decoder refuses the file
seal "aead" {
  purpose = { f0 = "x" }
}
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
