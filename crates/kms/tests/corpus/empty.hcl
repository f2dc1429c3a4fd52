# No kms block at all: nothing to read, and nothing wrong with that here.
disable_mlock = true
listener "tcp" {
  purpose = "api"
}
