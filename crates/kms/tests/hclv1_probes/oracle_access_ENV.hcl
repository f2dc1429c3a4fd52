# probe: ENV:// in capitals is still the env scheme, but TrimPrefix keeps the whole text as the variable name: unset, refused
kms "awskms" {
  purpose = "root"
  kms_key_id = "x"
  access_key = "ENV://ORACLE_AK"
  secret_key = "s"
}
