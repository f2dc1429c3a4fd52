# probe: <<EOF with an indented closing line: Go keeps the indentation as trailing text
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = <<EOF
my-key
  EOF
}
