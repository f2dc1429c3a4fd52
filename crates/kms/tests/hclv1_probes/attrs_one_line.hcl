# probe: several attributes on one line of a block (HCL 2 refuses)
kms "aead" { purpose = "root" key = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ=" key_id = "k1" }
