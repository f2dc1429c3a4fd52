# probe: purpose = " root\t": configutil trims each purpose
kms "aead" {
  purpose = " root\t"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
