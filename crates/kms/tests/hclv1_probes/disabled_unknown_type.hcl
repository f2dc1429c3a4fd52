# probe: disabled = true does not stop Boundary from setting the block up (no plugin for its type)
kms "nosuchkms" {
  purpose  = "worker-auth"
  disabled = true
}
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
