# probe: a config with no kms block at all: Boundary starts with no wrapper from it
listener "tcp" {
  address = "127.0.0.1:9200"
  purpose = "api"
}
