# The environment overrides the stanza's key id and endpoint, and fills in region and
# credentials; disallow_env_vars turns all of that off.
kms "awskms" {
  purpose    = "root"
  kms_key_id = "alias/from-stanza"
  endpoint   = "http://stanza.invalid"
}

kms "awskms" {
  purpose           = "recovery"
  kms_key_id        = "alias/recovery"
  disallow_env_vars = true
}

kms "awskms" {
  purpose = "worker-auth"
  key_id  = "global_worker-auth"
}
