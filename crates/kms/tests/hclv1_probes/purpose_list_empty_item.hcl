# probe: purpose = ["recovery", ""]: an empty item is "KMS block missing 'purpose'"
kms "aead" {
  purpose = ["recovery", ""]
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
