# probe: an object value for an unknown attribute: mapstructure wants a string
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
  extra = { a = "b" }
}
