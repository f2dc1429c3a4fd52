# A Boundary controller config, as in Boundary's deployment docs, with every other
# block around the kms stanzas. Only the kms blocks are read.
# Disable memory lock: https://www.man7.org/linux/man-pages/man2/mlock.2.html
disable_mlock = true

// Controller configuration block
controller {
  # This name attr must be unique across all controller instances if running in HA mode
  name = "demo-controller-1"
  description = <<EOT
A controller for a demo!
It spans lines.
EOT

  # Database URL for postgres. Not resolved by kms-config: BOUNDARY_PG_URL is unset here.
  database {
      url = "env://BOUNDARY_PG_URL"
      max_open_connections = 5
  }
  public_cluster_addr = "10.0.0.1"
}

/* API listener configuration block
   spanning several lines, with a "kms" word inside */
listener "tcp" {
  # Should be the address of the NIC that the controller server will be reached on
  address = "0.0.0.0"
  # The purpose of this listener block
  purpose = "api"

  tls_disable   = false
  tls_cert_file = "/etc/boundary.d/tls/boundary-cert.pem"
  tls_key_file  = "/etc/boundary.d/tls/boundary-key.pem"

  # Uncomment to enable CORS for the Admin UI.
  #cors_enabled = true
  #cors_allowed_origins = ["https://yourcorp.yourdomain.com", "serve://boundary"]
}

# Data-plane listener configuration block (used for worker coordination)
listener "tcp" {
  address = "10.0.0.1"
  purpose = "cluster"
}

listener "tcp" {
  address     = "10.0.0.1"
  purpose     = "ops"
  tls_disable = true
}

# Root KMS configuration block: this is the root key for Boundary
kms "aead" {
  purpose   = "root"
  aead_type = "aes-gcm"
  key       = "sP1fnF5Xz85RrXyELHFeZg9Ad2qt4Z4bgNHVGtD6ung="
  key_id    = "global_root"
}

// Worker authorization KMS
kms "aead" {
  purpose   = "worker-auth"
  aead_type = "aes-gcm"
  key       = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id    = "global_worker-auth"
}

/* Recovery KMS block */
kms "aead" {
  purpose   = "recovery"
  aead_type = "AES-GCM"
  key       = "XYbWaw79FjdIr3C2Wed8Hn9PQ3wygmcQKrI/PkoYEf0="
  key_id    = "global_recovery"
}

events {
  audit_enabled       = true
  sysevents_enabled   = true
  observations_enable = true
  sink "stderr" {
    name        = "all-events"
    description = "All events sent to stderr"
    event_types = ["*"]
    format      = "cloudevents-json"
  }
  sink {
    name        = "file-sink"
    description = "All events sent to a file"
    event_types = ["*"]
    format      = "cloudevents-json"
    file {
      path      = "/var/log/boundary"
      file_name = "controller.log"
    }
    audit_config {
      audit_filter_overrides {
        sensitive = "redact"
        secret    = "redact"
      }
    }
  }
}
