# probe: a list of lists in a block without purpose: mapstructure refuses it before any purpose rule
kms "gcpckms" {
  key = [[true, "x"]]
}
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
