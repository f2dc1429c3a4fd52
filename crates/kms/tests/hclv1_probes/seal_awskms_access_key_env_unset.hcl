# probe: an awskms seal with access_key = "env://UNSET": Boundary refuses the unset variable
seal "awskms" {
  purpose    = "recovery"
  kms_key_id = "alias/x"
  access_key = "env://ORACLE_AK_UNSET"
  secret_key = "x"
}
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
