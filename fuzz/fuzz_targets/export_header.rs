#![no_main]
//! libFuzzer entry point; the target itself is `twostep_fuzz::targets::otp::export_header`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| twostep_fuzz::targets::otp::export_header(data));
