#![no_main]
//! libFuzzer entry point; the target itself is `twostep_fuzz::targets::web::web_forms`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| twostep_fuzz::targets::web::web_forms(data));
