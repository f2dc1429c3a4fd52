# probe: a <<EOF heredoc keeps its final new line
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = <<EOF
my-key
EOF
}
