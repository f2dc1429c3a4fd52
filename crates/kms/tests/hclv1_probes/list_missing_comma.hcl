# probe: list items without a comma between them
kms "aead" {
  purpose = ["root" "recovery"]
  key = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id = "k1"
}
