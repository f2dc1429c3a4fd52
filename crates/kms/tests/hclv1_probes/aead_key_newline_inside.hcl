# probe: an aead key with \n inside: Go's base64 decoder skips new lines
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldG\nY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
