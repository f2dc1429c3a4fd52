# probe: kms = "x": not a block
kms = "x"
