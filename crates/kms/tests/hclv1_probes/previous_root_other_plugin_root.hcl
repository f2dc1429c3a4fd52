# probe: previous-root whose root is another backend type (transit): Boundary cannot check it offline and accepts
kms "transit" {
  purpose    = "root"
  mount_path = "transit/"
  key_name   = "root"
}
kms "aead" {
  purpose = "previous-root"
  key     = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE="
  key_id  = "k2"
}
