# probe: awskms session_token without access_key/secret_key: Boundary accepts it
kms "awskms" {
  purpose       = "root"
  kms_key_id    = "alias/k0"
  session_token = "tok"
}
