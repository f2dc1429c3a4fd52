# probe: awskms access_key = "env://UNSET": Boundary refuses the unset variable
kms "awskms" {
  purpose    = "root"
  kms_key_id = "alias/k0"
  access_key = "env://ORACLE_AK_UNSET"
  secret_key = "x"
}
