# Boundary's key_id is the KMS key only when nothing else names one.
kms "awskms" {
  purpose = "root"
  key_id  = "19ec80b0-dfdd-4d97-8164-c6examplekey"
}

# A decrypt-only wrapper needs no key id.
kms "awskms" {
  purpose          = "recovery"
  key_not_required = true
}
