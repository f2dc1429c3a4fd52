# probe: an awskms seal with access_key but no secret_key: Boundary refuses the credentials
seal "awskms" {
  purpose    = "recovery"
  kms_key_id = "alias/x"
  access_key = "AKIDONLY"
}
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
