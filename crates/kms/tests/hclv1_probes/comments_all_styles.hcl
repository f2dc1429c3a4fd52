# probe: the three comment styles, a comment between = and its value
# hash
// slashes
/* block
   over lines */
kms "aead" { # after brace
  purpose = /* inline */ "root" // trailing
  key = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id = "k1"
}
