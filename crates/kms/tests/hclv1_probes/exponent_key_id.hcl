# probe: an exponent float as key_id: 1e3 reads as 1000
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = 1e3
}
