# probe: \777 in a kms block: Go's unquoting fails when configutil decodes it
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "\777"
}
