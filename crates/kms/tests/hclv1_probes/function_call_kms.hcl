# probe: a function call in a kms block: HCL v1 has no functions
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = upper("x")
}
