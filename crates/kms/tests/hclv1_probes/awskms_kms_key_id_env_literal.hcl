# probe: awskms kms_key_id = "env://...": taken literally, the key id is the text
kms "awskms" {
  purpose    = "root"
  kms_key_id = "env://ORACLE_KMS_KEY_ID"
}
