# probe: aead key = "env://...": the aead wrapper takes key literally (not base64)
kms "aead" {
  purpose = "root"
  key     = "env://ORACLE_AEAD_KEY"
  key_id  = "k1"
}
