# probe: a list with two commas in a row: HCL v1 accepts it
kms "aead" {
  purpose = ["root",, "recovery"]
  key = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id = "k1"
}
