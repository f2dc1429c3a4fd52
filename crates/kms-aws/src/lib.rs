//! kms-aws
