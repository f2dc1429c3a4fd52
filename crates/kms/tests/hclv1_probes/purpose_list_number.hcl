# probe: purpose = ["bsr", 1]: the number is the unknown purpose "1"
kms "aead" {
  purpose = ["bsr", 1]
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
