# probe: two downstream-worker-auth keys with the same (empty) key id: Boundary's pool refuses the second (Wrapper already added)
kms "aead" {
  purpose = "downstream-worker-auth"
  key = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
}
kms "aead" {
  purpose = "downstream-worker-auth"
  key = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
}
