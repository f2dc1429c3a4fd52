#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kms_config::fuzz::config_parse(data, &kms::backends()));
