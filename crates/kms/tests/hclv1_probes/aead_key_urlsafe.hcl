# probe: an aead key in the URL-safe alphabet: Go's StdEncoding refuses it
kms "aead" {
  purpose = "root"
  key     = "_qxvapaN8ULxnZmK7-0CvoM985iptfJWW7YP3uiVjkE="
  key_id  = "k1"
}
