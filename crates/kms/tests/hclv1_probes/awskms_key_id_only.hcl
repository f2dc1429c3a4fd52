# probe: awskms with key_id and no kms_key_id: the wrapper uses key_id
kms "awskms" {
  purpose = "root"
  key_id  = "alias/k0"
}
