# AWSKMS_WRAPPER_KEY_ID applies to every awskms stanza, so root and previous-root
# both resolve to it.
kms "awskms" {
  purpose    = "root"
  kms_key_id = "alias/new"
}
kms "awskms" {
  purpose    = "previous-root"
  kms_key_id = "alias/old"
}
