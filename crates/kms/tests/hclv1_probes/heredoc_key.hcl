# probe: the key itself in a heredoc (base64 with its new line)
kms "aead" {
  purpose = "root"
  key     = <<EOK
8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ=
EOK
  key_id  = "k1"
}
