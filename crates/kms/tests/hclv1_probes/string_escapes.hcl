# probe: escapes in a string: \t, \u, \x, octal
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "a\tb\u00e9\x41\101"
}
