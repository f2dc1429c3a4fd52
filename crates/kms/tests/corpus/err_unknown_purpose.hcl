kms "aead" {
  purpose = "rooot"
  key     = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE="
}

kms "aead" {
  purpose = ["recovery", "Worker_Auth", "banana", "previous-root, previous-root"]
  key     = "d8p8F1KCBdo+dt02M0mFgA3017LmUgnz6wTEyLq88VY="
  key_id  = "k2"
}
