# probe: aead_type is case-sensitive in go-kms-wrapping: "AES-GCM" is unsupported
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
  aead_type = "AES-GCM"
}
