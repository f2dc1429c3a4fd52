# probe: awskms endpoint = "env://...": taken literally, never resolved
kms "awskms" {
  purpose    = "root"
  kms_key_id = "alias/k0"
  endpoint   = "env://ORACLE_ENDPOINT_UNSET"
}
