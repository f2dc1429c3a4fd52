# probe: awskms access_key/secret_key = "env://...": resolved (go-kms-wrapping's ParsePaths)
kms "awskms" {
  purpose    = "root"
  kms_key_id = "alias/k0"
  access_key = "env://ORACLE_AK"
  secret_key = "env://ORACLE_SK"
}
