# probe: an aead key with a leading space: Go's base64 refuses it
kms "aead" {
  purpose = "root"
  key     = " 8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
