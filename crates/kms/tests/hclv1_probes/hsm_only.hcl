# probe: an hsm block alone: Boundary reads hsm blocks as kms blocks
hsm "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
