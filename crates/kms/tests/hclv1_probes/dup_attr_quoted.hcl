# probe: key_id and "key_id": the parser tells them apart; configutil's map keeps the last
kms "aead" {
  purpose = "root"
  key     = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id  = "k1"
  "key_id" = "k2"
}
