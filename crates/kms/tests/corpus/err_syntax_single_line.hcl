# HCL 2 wants one attribute per line in a block (HCL 1 did not).
kms "aead" { purpose = "root" key = "CANARY" }
