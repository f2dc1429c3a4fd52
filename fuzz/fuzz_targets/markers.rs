#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kms_config::fuzz::markers(data));
