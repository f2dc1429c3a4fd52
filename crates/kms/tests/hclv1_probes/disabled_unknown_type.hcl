# probe: disabled = true does not stop Boundary from setting the block up
kms "nosuchkms" {
  purpose  = "worker-auth"
  disabled = true
}
