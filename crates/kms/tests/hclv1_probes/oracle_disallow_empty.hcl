# probe: disallow_env_vars = "" is refused by strconv.ParseBool
kms "awskms" {
  purpose = "root"
  kms_key_id = "x"
  disallow_env_vars = ""
}
