# probe: an aead block without purpose and with a bad key: Boundary never reads the key
kms "aead" {
  key = "not base64!"
}
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
