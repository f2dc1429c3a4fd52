# probe: KMS in upper case: configutil's filter folds case
KMS "aead" {
  purpose = "root"
  key = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id = "k1"
}
