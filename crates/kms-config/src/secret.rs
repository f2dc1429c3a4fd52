pub use kms_core::SecretString;
