# Keys in heredocs (plain and indented), from a file with CRLF, unpadded base64,
# an identifier label and an upper-case type.
kms aead {
  purpose = "root"
  key     = <<EOT
FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE=
EOT
  key_id  = "heredoc"
}

kms "AEAD" {
  purpose = "recovery"
  key     = <<-KEY
    d8p8F1KCBdo+dt02M0mFgA3017LmUgnz6wTEyLq88VY=
    KEY
  key_id  = <<-EOT
    indented-id
  EOT
}

kms "aead" {
  purpose = "config"
  key     = "file://tests/corpus/files/aead_key.b64"
}

kms "aead" {
  purpose = "worker-auth"
  key     = "4tZgu5EdZb5JbUPA5+e8WSdzIonwf6RCsu/ZFitbDL8"
  key_id  = 1234
}
