# probe: an aead block with key = "": go-kms-wrapping's aead SetConfig accepts it
kms "aead" {
  purpose = "bsr"
  key     = ""
}
