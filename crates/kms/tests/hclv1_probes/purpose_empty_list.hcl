# probe: purpose = [] next to a valid block: Boundary skips the block
kms "awskms" {
  purpose = []
}
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
