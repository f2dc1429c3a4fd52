# A typo and the missing attribute it causes both show.
kms "awskms" {
  purpose   = "root"
  region    = "us-east-1"
  kms_keyid = "alias/typo"
  regoin    = "x"
  password  = "CANARY"
}
kms "aead" {
  purpose = "recovery"
  keys    = "CANARY"
  aead    = "aes-gcm"
}
