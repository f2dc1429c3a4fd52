# probe: a hex number as key_id (HCL 2 has no hex): Boundary reads 31
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = 0x1F
}
