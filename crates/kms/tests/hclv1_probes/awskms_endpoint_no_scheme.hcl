# probe: awskms endpoint without a scheme
kms "awskms" {
  purpose    = "root"
  kms_key_id = "alias/k0"
  endpoint   = "kms.internal:4566"
}
