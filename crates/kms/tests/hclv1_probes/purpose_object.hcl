# probe: purpose = { a = "root" }: mapstructure cannot make a string of an object
kms "aead" {
  purpose = { a = "root" }
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
}
