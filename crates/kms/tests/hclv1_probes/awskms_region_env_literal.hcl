# probe: awskms region = "env://...": taken literally, never resolved
kms "awskms" {
  purpose    = "root"
  kms_key_id = "alias/k0"
  region     = "env://ORACLE_REGION_UNSET"
}
