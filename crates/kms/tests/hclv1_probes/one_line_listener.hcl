# probe: a one-line block outside kms, several attributes
listener "tcp" { address = "127.0.0.1:9200" purpose = "api" tls_disable = true }
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
