# probe: 09 passes HCL v1's scanner (its octal check misses it) and is never decoded outside kms
max_open_connections = 09
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
