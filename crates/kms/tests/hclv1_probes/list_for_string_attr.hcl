# probe: key_id = ["k1"]: mapstructure wants a string
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id = ["k1"]
}
