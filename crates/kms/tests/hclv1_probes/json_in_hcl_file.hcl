# probe: JSON text after a comment line: the first character is not {, so hcl.Parse reads HCL and refuses it
{"kms": [{"aead": {"purpose": "root", "key": "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ=", "key_id": "k1"}}]}
