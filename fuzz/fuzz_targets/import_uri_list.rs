#![no_main]
//! libFuzzer entry point; the target itself is `twostep_fuzz::targets::otp::import_uri_list`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| twostep_fuzz::targets::otp::import_uri_list(data));
