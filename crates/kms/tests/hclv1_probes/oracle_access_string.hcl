# probe: string://env://A in access_key is the literal text env://A (ParsePath's string:// scheme)
kms "awskms" {
  purpose = "root"
  kms_key_id = "x"
  access_key = "string://env://A"
  secret_key = "s"
}
