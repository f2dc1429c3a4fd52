kms "awskms" {
  purpose    = "root"
  kms_key_id = "alias/a"
  access_key = "AKIAONLY"
}
kms "awskms" {
  purpose       = "recovery"
  kms_key_id    = "alias/b"
  secret_key    = "CANARY-secret"
  session_token = "CANARY-token"
}
kms "awskms" {
  purpose       = "worker-auth"
  kms_key_id    = "alias/c"
  session_token = "CANARY-token"
}
