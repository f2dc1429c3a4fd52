# probe: purpose = "config,config": Boundary allows config twice
kms "aead" {
  purpose = "config,config"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
