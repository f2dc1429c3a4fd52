# probe: ${...} is literal text in HCL v1, in a kms block
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "${foo.bar}"
}
