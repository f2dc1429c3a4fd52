# A Boundary worker config (PKI worker with a KMS for worker-led auth), indented with tabs.
disable_mlock = true

listener "tcp" {
	address = "0.0.0.0:9202"
	purpose = "proxy"
}

worker {
	name = "worker-1"
	description = "A worker"
	initial_upstreams = ["10.0.0.1:9201", "10.0.0.2:9201"]
	public_addr = "myhost.mycompany.com"
	auth_storage_path = "/var/lib/boundary"
	recording_storage_path = "/var/lib/boundary/recordings"
	tags {
		type   = ["prod", "webservers"]
		region = ["us-east-1"]
	}
}

kms "aead" {
	purpose = "worker-auth"	# a trailing comment
	aead_type = "aes-gcm"
	key = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
	key_id = "global_worker-auth"
}

// downstream-worker-auth may appear in several stanzas.
kms "awskms" {
	purpose    = "downstream-worker-auth"
	region     = "eu-west-1"
	kms_key_id = "19ec80b0-dfdd-4d97-8164-c6examplekey"
}

kms "awskms" {
	purpose    = ["downstream-worker-auth"]
	region     = "eu-west-1"
	kms_key_id = "arn:aws:kms:eu-west-1:111122223333:alias/downstream-2"
}

kms "aead" {
	purpose = "worker-auth-storage"
	key     = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE="
	key_id  = "worker-storage"
}

events {
	audit_enabled = true
	sink "stderr" {
		name = "all-events"
		event_types = ["*"]
		format = "hclog-text"
	}
}
