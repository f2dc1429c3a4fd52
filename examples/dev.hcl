# A development config: static local keys (the aead backend), no AWS account needed.
# NEVER use these keys for real data: they are published in this repository.
#
#   kms encrypt -c examples/dev.hcl -o secret.kms secret.txt
#   kms decrypt -c examples/dev.hcl -o secret.txt secret.kms

kms "aead" {
  purpose   = "root"
  aead_type = "aes-gcm"
  key       = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE="
  key_id    = "global_root"
}

kms "aead" {
  purpose   = "worker-auth"
  aead_type = "aes-gcm"
  key       = "d8p8F1KCBdo+dt02M0mFgA3017LmUgnz6wTEyLq88VY="
  key_id    = "global_worker-auth"
}

kms "aead" {
  purpose   = "recovery"
  aead_type = "aes-gcm"
  key       = "XYbWaw79FjdIr3C2Wed8Hn9PQ3wygmcQKrI/PkoYEf0="
  key_id    = "global_recovery"
}

kms "aead" {
  purpose   = "config"
  aead_type = "aes-gcm"
  key       = "4tZgu5EdZb5JbUPA5+e8WSdzIonwf6RCsu/ZFitbDL8="
  key_id    = "global_config"
}
