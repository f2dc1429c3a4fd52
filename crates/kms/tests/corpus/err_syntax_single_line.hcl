# HCL v1 (Boundary) takes several attributes on one line of a block; the block is read
# and its key checked, never shown.
kms "aead" { purpose = "root" key = "CANARY" }
