# probe: \777 passes the scanner; outside kms Boundary never unquotes it
x = "\777"
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
