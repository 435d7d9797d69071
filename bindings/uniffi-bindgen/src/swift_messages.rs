//! Readable Swift error descriptions.
//!
//! uniffi makes each error enum a `Foundation.LocalizedError` whose `errorDescription` is
//! `String(reflecting: self)`, and exports Rust's `Display` as a `description` property
//! without declaring `CustomStringConvertible`: so `error.localizedDescription`, `"\(error)"`
//! and `print(error)` give the case and its fields (`TwostepError.InvalidCode(attemptsLeft:
//! 4)`), not the core's text. After generation, every error enum that has a `description`
//! gets `errorDescription` = `description` and the `CustomStringConvertible` conformance.
//! As with the Kotlin rewrite, a generator that produces something else fails here, loudly.

use std::path::Path;

/// What uniffi generates as the body of `errorDescription`.
const GENERATED: &str = "String(reflecting: self)";
/// What it becomes.
const READABLE: &str = "        description";
/// The conformance the enum's declaration line ends with, and what it becomes.
const CONFORMANCE: &str = "Foundation.LocalizedError {";
const READABLE_CONFORMANCE: &str = "Foundation.LocalizedError, CustomStringConvertible {";

/// Rewrites every `.swift` file under `dir`.
pub fn patch_dir(dir: &Path) -> Result<(), String> {
    crate::rewrite::rewrite_dir(dir, "swift", patch)
}

/// The file with every error enum that has a `description` made to describe itself with it.
pub fn patch(text: &str) -> Result<String, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        // uniffi puts `public` on a line of its own, the `enum` line after it.
        let declaration = line.strip_prefix("public ").unwrap_or(line);
        let is_error_enum = (declaration.starts_with("enum ")
            || declaration.starts_with("indirect enum "))
            && line.contains(": Swift.Error");
        if !is_error_enum {
            out.push(line.to_owned());
            i += 1;
            continue;
        }
        // The enum runs to the last line that closes something at column 0 before what
        // follows it (its `Sendable` conformance, its FFI converter): unformatted method
        // bodies close at column 0 too.
        let next = (i + 1..lines.len())
            .find(|&j| {
                lines[j].starts_with("#if compiler(")
                    || lines[j].starts_with("public struct FfiConverter")
            })
            .ok_or("nothing after the error enum")?;
        let end = (i + 1..next).rev().find(|&j| lines[j] == "}").ok_or("unclosed enum")?;
        let body = &lines[i..=end];
        let has_text = body.iter().any(|l| l.trim() == "public var description: String {");
        if !has_text {
            out.extend(body.iter().map(|l| (*l).to_owned()));
            i = end + 1;
            continue;
        }
        let declared = line.trim_end();
        if declared.ends_with(READABLE_CONFORMANCE) {
            out.push(line.to_owned());
        } else if let Some(head) = declared.strip_suffix(CONFORMANCE) {
            out.push(format!("{head}{READABLE_CONFORMANCE}"));
        } else {
            return Err(format!("{declared}: not a LocalizedError; did uniffi's template change?"));
        }
        let mut rewritten = 0;
        for (k, l) in body.iter().enumerate().skip(1) {
            let in_description = body[k - 1].trim() == "public var errorDescription: String? {";
            if in_description && (l.trim() == GENERATED || l.trim() == READABLE.trim()) {
                out.push(READABLE.to_owned());
                rewritten += 1;
            } else {
                out.push((*l).to_owned());
            }
        }
        if rewritten != 1 {
            return Err(format!(
                "{}: rewrote {rewritten} errorDescription(s), expected 1; did uniffi's template change?",
                declared
            ));
        }
        i = end + 1;
    }
    let mut patched = out.join("\n");
    if text.ends_with('\n') {
        patched.push('\n');
    }
    Ok(patched)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As uniffi 0.32.2 generates them (unformatted): one error with `Display`, one without.
    const GENERATED_ERRORS: &str = r#"import Foundation

public 
enum TwostepError: Swift.Error, Equatable, Hashable, Foundation.LocalizedError {

    case InvalidCode(attemptsLeft: Int32
    )
    case Timeout

public func retryAfter() -> TimeInterval?  {
    return try!  FfiConverterOptionDuration.lift(try! rustCall() {
        uniffiCallStatus in
    x(uniffiCallStatus
    )
})
}

// The local Rust `Display` implementation.
public var description: String {
    return try!  FfiConverterString.lift(
        try! rustCall() {
        uniffiCallStatus in
    y(uniffiCallStatus
    )
}
    )
}

    public var errorDescription: String? {
        String(reflecting: self)
    }
    
}

#if compiler(>=6)
extension TwostepError: Sendable {}
#endif

public 
enum PlatformKeyError: Swift.Error, Equatable, Hashable, Foundation.LocalizedError {

    case Failed(detail: String
    )

    public var errorDescription: String? {
        String(reflecting: self)
    }
}

#if compiler(>=6)
extension PlatformKeyError: Sendable {}
#endif
"#;

    #[test]
    fn errors_with_a_text_describe_themselves_with_it() {
        let patched = patch(GENERATED_ERRORS).unwrap();
        assert!(
            patched.contains(
                "enum TwostepError: Swift.Error, Equatable, Hashable, \
                 Foundation.LocalizedError, CustomStringConvertible {"
            ),
            "{patched}"
        );
        assert_eq!(patched.matches("String(reflecting: self)").count(), 1, "{patched}");
        assert_eq!(
            patched.matches("errorDescription: String? {\n        description\n").count(),
            1
        );
        assert!(
            patched.contains(
                "PlatformKeyError: Swift.Error, Equatable, Hashable, Foundation.LocalizedError {"
            ),
            "no description: left alone"
        );
        assert!(patched.ends_with("#endif\n"));
        assert_eq!(patch(&patched).unwrap(), patched, "idempotent");
    }

    #[test]
    fn a_changed_template_fails_loudly() {
        let changed = GENERATED_ERRORS.replacen("String(reflecting: self)", "\"\\(self)\"", 1);
        assert!(patch(&changed).is_err());
        let no_localized = GENERATED_ERRORS.replacen(
            ", Foundation.LocalizedError {\n\n    case InvalidCode",
            " {\n\n    case InvalidCode",
            1,
        );
        assert_ne!(no_localized, GENERATED_ERRORS);
        assert!(patch(&no_localized).is_err());
    }
}
