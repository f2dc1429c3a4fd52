# probe: quotes inside ${...} do not end the string; the text is kept as written
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "${lookup("a", "b")}"
}
