# probe: aead key = "file://...": the aead wrapper takes key literally (not base64)
kms "aead" {
  purpose = "root"
  key     = "file://probe_key.txt"
  key_id  = "k1"
}
