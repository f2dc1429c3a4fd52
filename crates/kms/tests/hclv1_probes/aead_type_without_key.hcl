# probe: an aead block without a key: aead_type is never read
kms "aead" {
  purpose = "bsr"
  aead_type = "chacha20"
}
