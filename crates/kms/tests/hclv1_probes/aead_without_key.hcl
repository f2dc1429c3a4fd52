# probe: an aead block without a key: go-kms-wrapping's aead SetConfig accepts it
kms "aead" {
  purpose = ["bsr"]
}
