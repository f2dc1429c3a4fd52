kms "awskms" {
  purpose    = "root"
  kms_key_id = "alias/boundary-root"
}
kms "awskms" {
  purpose = "previous-root"
  key_id  = "alias/boundary-root"
}
