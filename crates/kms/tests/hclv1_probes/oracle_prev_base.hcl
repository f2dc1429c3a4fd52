# probe: previous-root with key id __base__: NewPooledWrapper refuses it
kms "aead" {
  purpose = "root"
  key = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id = "a"
}
kms "aead" {
  purpose = "previous-root"
  key = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id = "__base__"
}
