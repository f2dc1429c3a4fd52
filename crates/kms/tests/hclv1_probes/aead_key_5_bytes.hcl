# probe: an aead key of 5 bytes: go-kms-wrapping refuses it
kms "aead" {
  purpose = "root"
  key     = "aGVsbG8="
  key_id  = "k1"
}
