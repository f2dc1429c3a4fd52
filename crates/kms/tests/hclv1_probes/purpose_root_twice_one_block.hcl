# probe: purpose = ["root", "root"]: Boundary refuses a duplicate root
kms "aead" {
  purpose = ["root", "root"]
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
