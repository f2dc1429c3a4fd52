# probe: an integer beyond int64 in a block without purpose: HCL v1's decoder refuses the file
kms "aead" {
  key_id = 9223372036854775808
}
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
