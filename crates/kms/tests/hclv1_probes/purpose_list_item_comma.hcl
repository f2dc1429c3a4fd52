# probe: a list item holding a comma is one (unknown) purpose: configutil does not split list items
kms "aead" {
  purpose = ["config,bsr"]
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
}
