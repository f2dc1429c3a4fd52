# probe: a heredoc closed on the file's last line without a new line: HCL v1's scanner refuses it
kms "aead" {
  purpose = "root"
  key = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
}
x = <<EOF
abc
EOF