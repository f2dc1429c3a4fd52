# probe: <<- unindents by the closing line's indentation only
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = <<-EOT
      my-key
    EOT
}
