kms "awskms" {
  purpose    = "root"
  kms_key_id = "env://TEST_MISSING_KEY_ID"
  secret_key = "file://tests/corpus/files/does-not-exist"
  access_key = "env://TEST_EMPTY"
}
kms "aead" {
  purpose = "env://TEST_PURPOSE"
  key     = "env://TEST_MISSING_AEAD_KEY"
}
