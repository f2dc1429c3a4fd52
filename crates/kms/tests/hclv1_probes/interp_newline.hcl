# probe: a new line inside ${...} is allowed in an HCL v1 string
controller {
  name = "${a
b}"
}
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
