# probe: downstream-worker-auth twice in one block: "Wrapper already added to downstream worker auth wrapper pool"
kms "aead" {
  purpose = ["downstream-worker-auth", "downstream-worker-auth"]
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k0"
}
