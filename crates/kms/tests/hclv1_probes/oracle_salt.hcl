# probe: aead salt is base64-decoded by the wrapper even without a key: invalid base64 is refused
kms "aead" {
  purpose = "root"
  salt = "abc"
}
