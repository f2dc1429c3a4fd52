# probe: 1e scans as a FLOAT that Go cannot read, in a kms block
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = 1e
}
