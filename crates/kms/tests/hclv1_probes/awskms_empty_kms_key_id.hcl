# probe: awskms kms_key_id = "" with key_id set: the wrapper finds no key id
kms "awskms" {
  purpose    = "root"
  kms_key_id = ""
  key_id     = "k0"
}
