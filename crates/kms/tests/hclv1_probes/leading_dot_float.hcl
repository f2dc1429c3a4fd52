# probe: a float written .5 (HCL v1 scans it as FLOAT)
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = .5
}
