# probe: KEY_ID is not key_id: Boundary ignores it (and the key id is empty)
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  KEY_ID = "k9"
}
