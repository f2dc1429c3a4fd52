# probe: two one-line kms blocks on the same line
kms "aead" { purpose = "root" key = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ=" key_id = "a" } kms "aead" { purpose = "recovery" key = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE=" key_id = "b" }
