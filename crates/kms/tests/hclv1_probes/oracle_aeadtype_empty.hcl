# probe: aead_type = "" with a key: AeadTypeMap("") is unknown, refused
kms "aead" {
  purpose = "root"
  key = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  aead_type = ""
}
