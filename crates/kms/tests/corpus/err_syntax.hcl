disable_mlock = true

kms "aead" {
  purpose = "root"
  key     = "CANARYCANARYCANARY
}
