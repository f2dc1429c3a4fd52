# probe: an attribute set twice in a kms block: HCL v1's parser refuses it
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
  key_id  = "k2"
}
