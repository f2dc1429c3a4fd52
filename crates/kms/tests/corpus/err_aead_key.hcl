kms "aead" {
  purpose = "root"
}
kms "aead" {
  purpose = "recovery"
  key     = "CANARY!!not*base64"
}
kms "aead" {
  purpose = "worker-auth"
  key     = "CANARYCANARYCANARYCANARY"
}
kms "aead" {
  purpose   = "config"
  key       = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE="
  aead_type = "chacha20-poly1305"
}
kms "aead" {
  purpose = "bsr"
  key     = 12345
}
kms "aead" {
  purpose = "worker-auth-storage"
  key     = ""
}
