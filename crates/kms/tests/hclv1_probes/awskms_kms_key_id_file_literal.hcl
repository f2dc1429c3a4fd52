# probe: awskms kms_key_id = "file://...": taken literally, the key id is the text
kms "awskms" {
  purpose    = "root"
  kms_key_id = "file://probe_id.txt"
}
