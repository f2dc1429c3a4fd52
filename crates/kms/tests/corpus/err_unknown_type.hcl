kms "gcpckms" {
  purpose    = "root"
  project    = "p"
}
kms "aws-kms" {
  purpose = "recovery"
}
kms {
  purpose = "config"
}
kms "aead" "extra" {
  purpose = "config"
  key     = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE="
  nested {
    x = 1
  }
}
