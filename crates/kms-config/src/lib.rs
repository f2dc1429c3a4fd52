//! kms-config
