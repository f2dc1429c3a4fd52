# probe: purpose = "root,,": empty items are "KMS block missing 'purpose'"
kms "aead" {
  purpose = "root,,"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
