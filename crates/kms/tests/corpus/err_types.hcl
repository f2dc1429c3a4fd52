kms "awskms" {
  purpose           = 5
  region            = ["us-east-1"]
  endpoint          = { url = "http://x" }
  disallow_env_vars = "maybe"
  key_not_required  = "yes"
  role_arn          = "${var.role}"
  secret_key        = ["CANARY"]
  access_key        = "AKIA"
  session_token     = true
}
kms "aead" {
  purpose  = ["root", 7]
  key      = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE="
  key_id   = ["x"]
  disabled = "garbage"
}
kms "aead" {
  purpose  = "config"
  key      = "d8p8F1KCBdo+dt02M0mFgA3017LmUgnz6wTEyLq88VY="
  disabled = 1.5
}
