//! placeholder
#![allow(missing_docs)]
mod support;
