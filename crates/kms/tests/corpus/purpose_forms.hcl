# purpose as a string, a comma-separated string (spaces, case), and a list.
kms "aead" {
  purpose = "root"
  key     = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE="
  key_id  = "k1"
}
kms "aead" {
  purpose = " Worker-Auth ,recovery,  "
  key     = "d8p8F1KCBdo+dt02M0mFgA3017LmUgnz6wTEyLq88VY="
  key_id  = "k2"
}
kms "aead" {
  purpose = ["config", " BSR ", "downstream-worker-auth, worker-auth-storage"]
  key     = "4tZgu5EdZb5JbUPA5+e8WSdzIonwf6RCsu/ZFitbDL8="
  key_id  = "k3"
}
