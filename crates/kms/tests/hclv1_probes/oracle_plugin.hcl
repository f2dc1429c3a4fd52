# probe: plugin_checksum without plugin_path is refused by configutil
kms "aead" {
  purpose = "root"
  key = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  plugin_checksum = "abc"
}
