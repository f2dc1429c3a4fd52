# probe: 09 in a kms block: Go's ParseInt refuses it when configutil decodes the block
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = 09
}
