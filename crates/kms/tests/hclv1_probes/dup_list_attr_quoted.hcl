# probe: a list written under a key and its quoted twin: Go appends the lists
kms "aead" {
  purpose = ["root"]
  "purpose" = ["recovery"]
  key = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id = "k1"
}
