# probe: a list with a trailing comma
kms "aead" {
  purpose = ["root", "recovery",]
  key = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id = "k1"
}
