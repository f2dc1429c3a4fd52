# probe: a kms and a seal block both marked for config: only one config block is allowed
kms "aead" {
  purpose = "config"
  key = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
}
seal "aead" {
  purpose = "config"
  key = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
}
