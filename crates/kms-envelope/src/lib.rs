//! kms-envelope
