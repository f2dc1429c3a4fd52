# A controller config with many problems: each is reported, in file order.
disable_mlock = true
controller {
  name = "c"
  database {
    url = "env://BOUNDARY_PG_URL"
  }
}
listener "tcp" {
  purpose = "api"
}
kms "aead" {
  purpose = "root"
  key     = "CANARY"
  key_id  = "global_root"
}
kms "awskms" {
  purpose    = "root, recovry"
  kms_keyid  = "alias/root"
}
kms "awskms" {
  purpose = "previous-root"
  region  = "us-east-1"
  key_id  = "global_root"
  disallow_env_vars = true
}
kms "hsm" {
  purpose = "config"
}
events {
  audit_enabled = true
}
