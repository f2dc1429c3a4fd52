# probe: an aead key without base64 padding: Go's StdEncoding refuses it
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ"
  key_id  = "k1"
}
