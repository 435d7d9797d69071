//! The bounded fuzz runs of `cargo test`: each target's seed corpus and past findings,
//! then a fixed number of deterministic mutations (`TWOSTEP_FUZZ_CASES` and
//! `TWOSTEP_FUZZ_SEED` change them). A failure saves the input under the target directory.

use std::path::Path;

fn bounded(name: &str) {
    let target = twostep_fuzz::find(name).expect("a known target");
    let findings = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-findings");
    let report = twostep_fuzz::runner::run_bounded(target, target.cases, &findings);
    assert!(report.corpus > 0, "{name} has no seed corpus");
    eprintln!(
        "{name}: {} corpus inputs + {} mutated in {:.2?}",
        report.corpus, report.mutated, report.elapsed
    );
}

macro_rules! bounded_tests {
    ($($name:ident),* $(,)?) => {
        $( #[test] fn $name() { bounded(stringify!($name)); } )*

        #[test]
        fn every_target_has_a_bounded_test_and_a_libfuzzer_binary() {
            let tested = [$(stringify!($name)),*];
            let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
            let manifest = std::fs::read_to_string(fuzz.join("Cargo.toml")).unwrap_or_default();
            for target in twostep_fuzz::TARGETS {
                let name = target.name;
                assert!(tested.contains(&name), "no bounded test for {name}");
                let source = std::fs::read_to_string(fuzz.join(format!("fuzz_targets/{name}.rs")))
                    .unwrap_or_default();
                assert!(
                    manifest.contains(&format!("name = \"{name}\"")) && source.contains(&format!("::{name}(data)")),
                    "fuzz/ has no libFuzzer binary calling {name}"
                );
                if let Some(dict) = target.dict {
                    assert!(!twostep_fuzz::runner::dictionary(target).is_empty(), "{dict} is empty");
                }
            }
        }
    };
}

bounded_tests!(
    otpauth_uri,
    import_google,
    import_google_payload,
    import_aegis,
    import_twofas,
    import_uri_list,
    export_header,
    export_payload,
    export_decrypt,
    request_bodies,
    server_routes,
    web_forms,
    stored_hash,
    core_answers,
);

#[test]
fn every_request_body_type_of_the_api_is_fuzzed() {
    let fuzzed: Vec<&str> =
        twostep_fuzz::targets::bodies::TYPES.iter().map(|(name, _)| *name).collect();
    for endpoint in twostep_server::http::openapi::ENDPOINTS {
        if let Some(body) = endpoint.request {
            assert!(
                fuzzed.contains(&body),
                "{} {}: {body} is not in bodies::TYPES",
                endpoint.method,
                endpoint.path
            );
        }
    }
}

#[test]
fn every_web_form_route_is_fuzzed() {
    // The routes of the web router that take input: every POST, and the GET pages with a
    // query (listed in `web::FORMS`).
    let source = include_str!("../../server/src/web/mod.rs");
    let fuzzed = twostep_fuzz::targets::web::FORMS;
    for line in source.lines().filter(|l| l.contains(".route(\"")) {
        let path = line.split('"').nth(1).unwrap_or_default();
        if line.contains("post(") {
            assert!(fuzzed.contains(&("POST", path)), "POST {path} is not in web::FORMS");
        }
    }
    for (method, path) in fuzzed {
        let routed = source.lines().any(|l| l.contains(&format!(".route(\"{path}\"")));
        assert!(routed, "{method} {path} is no longer a web route");
    }
}
