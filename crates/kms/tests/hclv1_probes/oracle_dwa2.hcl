# probe: key id __base__ is reserved by go-kms-wrapping's multi-wrapper pool
kms "aead" {
  purpose = ["downstream-worker-auth", "root"]
  key = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id = "__base__"
}
