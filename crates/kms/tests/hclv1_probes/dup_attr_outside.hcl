# probe: an attribute set twice in another block: the file is refused
listener "tcp" {
  address = "a"
  address = "b"
}
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
