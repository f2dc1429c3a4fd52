# probe: a leading-zero number is octal in HCL v1: 017 is 15
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = 017
}
