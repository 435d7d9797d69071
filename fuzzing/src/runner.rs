//! The bounded runs: every seed and regression input as is, then a fixed number of mutated
//! inputs, each under `catch_unwind`. A panic saves the input and fails with a message
//! that says how to reproduce it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::Target;
use crate::mutate::{Mutator, parse_dict};

/// Default mutation seed; `TWOSTEP_FUZZ_SEED` overrides it.
pub const DEFAULT_SEED: u64 = 0x7570_5354_4550;

/// What a bounded run did.
#[derive(Debug, Clone)]
pub struct Report {
    /// The target.
    pub target: &'static str,
    /// Seed and regression inputs replayed.
    pub corpus: usize,
    /// Mutated inputs run.
    pub mutated: usize,
    /// Wall time.
    pub elapsed: Duration,
}

/// This crate's directory (seeds, regressions and dictionaries live under it).
pub fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The seed corpus and regression inputs of a target, sorted by file name.
pub fn corpus(target: &Target) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(crate_dir().join(dir).join(target.name)) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            if let Ok(bytes) = std::fs::read(&path) {
                files.push((path, bytes));
            }
        }
    }
    files
}

/// The target's dictionary tokens (empty without one).
pub fn dictionary(target: &Target) -> Vec<Vec<u8>> {
    target
        .dict
        .and_then(|name| std::fs::read_to_string(crate_dir().join("dict").join(name)).ok())
        .map(|text| parse_dict(&text))
        .unwrap_or_default()
}

/// Runs a target on its corpus and on `cases` mutated inputs (`TWOSTEP_FUZZ_CASES` and
/// `TWOSTEP_FUZZ_SEED` override the count and the seed). A panic writes the input under
/// `findings` and panics with where it is.
pub fn run_bounded(target: &Target, cases: usize, findings: &Path) -> Report {
    let cases =
        std::env::var("TWOSTEP_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(cases);
    let seed = std::env::var("TWOSTEP_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let started = Instant::now();
    let files = corpus(target);
    for (path, bytes) in &files {
        check_one(target, bytes, findings, &format!("corpus file {}", path.display()));
    }
    let seeds: Vec<Vec<u8>> = files.into_iter().map(|(_, b)| b).collect();
    let dict = dictionary(target);
    let name_hash =
        target.name.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
    let mut mutator = Mutator::new(&seeds, &dict, target.max_len, seed ^ name_hash);
    for case in 0..cases {
        let input = mutator.next_input();
        check_one(
            target,
            &input,
            findings,
            &format!("mutated case {case} (TWOSTEP_FUZZ_SEED={seed})"),
        );
    }
    Report { target: target.name, corpus: seeds.len(), mutated: cases, elapsed: started.elapsed() }
}

fn check_one(target: &Target, input: &[u8], findings: &Path, origin: &str) {
    if catch_unwind(AssertUnwindSafe(|| (target.run)(input))).is_ok() {
        return;
    }
    let dir = findings.join(target.name);
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("crash-{:016x}", fnv1a(input)));
    let saved = std::fs::write(&path, input).is_ok();
    panic!(
        "fuzz target `{}` panicked on {origin}: {:?}{}\n{}",
        target.name,
        String::from_utf8_lossy(&input[..input.len().min(512)]),
        if input.len() > 512 { " (cut at 512 bytes)" } else { "" },
        if saved {
            format!(
                "input saved to {}; once fixed, copy it to fuzzing/regressions/{}/",
                path.display(),
                target.name
            )
        } else {
            "the input could not be saved".to_owned()
        }
    );
}

/// A stable name for an input.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}
