//! Readable Kotlin exception messages.
//!
//! uniffi gives each variant of an error with fields a Kotlin `message` that lists the
//! fields (`attemptsLeft=4`), and an empty one to variants without fields; an app that logs
//! or shows `e.message` gets that. Our errors export Rust's `Display` (`toString()` in Kotlin,
//! the core's text, "wrong code (4 attempts left)"), so after generation every such
//! `message` is rewritten to return `toString()`. Only in exception classes that override
//! `toString()` (else `toString()` would call `message` back), and the rewrite must find
//! every variant: a uniffi version that generates something else fails here, loudly, rather
//! than shipping field dumps.

use std::path::Path;

/// What uniffi generates for a variant's message (the line after `override val message`).
const GENERATED: &str = "            get() = \"";
/// What it becomes.
const READABLE: &str = "            get() = toString()";

/// Rewrites every `.kt` file under `dir`.
pub fn patch_dir(dir: &Path) -> Result<(), String> {
    crate::rewrite::rewrite_dir(dir, "kt", patch)
}

/// The file with the messages of every exception class that has a `toString()` rewritten.
pub fn patch(text: &str) -> Result<String, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if !(line.starts_with("sealed class ") && line.contains(": kotlin.Exception()")) {
            out.push(line.to_owned());
            i += 1;
            continue;
        }
        // The class runs to the last line that closes something at column 0 before its FFI
        // converter (`public object FfiConverter...`): unformatted method bodies close at
        // column 0 too.
        let converter = (i + 1..lines.len())
            .find(|&j| lines[j].starts_with("public object "))
            .ok_or("no FFI converter after the exception class")?;
        let end = (i + 1..converter).rev().find(|&j| lines[j] == "}").ok_or("unclosed class")?;
        let class = &lines[i..=end];
        let has_text = class.iter().any(|l| l.trim() == "override fun toString(): String {");
        let variants = class.iter().filter(|l| l.trim() == "override val message").count();
        let mut rewritten = 0;
        for (k, l) in class.iter().enumerate() {
            let is_message = k > 0 && class[k - 1].trim() == "override val message";
            if has_text && is_message && (l.starts_with(GENERATED) || *l == READABLE) {
                out.push(READABLE.to_owned());
                rewritten += 1;
            } else {
                out.push((*l).to_owned());
            }
        }
        if has_text && rewritten != variants {
            return Err(format!(
                "{}: rewrote {rewritten} of {variants} messages; did uniffi's template change?",
                line.trim()
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

    const GENERATED_ERROR: &str = r#"package x

sealed class TwostepException: kotlin.Exception() {
    class InvalidCode(
        val `attemptsLeft`: kotlin.Int
        ) : TwostepException() {
        override val message
            get() = "attemptsLeft=${ `attemptsLeft` }"
    }
    class Timeout(
        ) : TwostepException() {
        override val message
            get() = ""
    }

    // The local Rust `Display`/`Debug` implementation.
    override fun toString(): String {
        return FfiConverterString.lift(
    uniffiRustCall() { _status ->
    x(_status)
}
    )
    }
}

/**
 * @suppress
 */
public object FfiConverterTypeTwostepError : FfiConverterRustBuffer<TwostepException> {
}

sealed class OtherException: kotlin.Exception() {
    class A(
        val `v`: kotlin.Int
        ) : OtherException() {
        override val message
            get() = "v=${ `v` }"
    }
}

public object FfiConverterTypeOtherError : FfiConverterRustBuffer<OtherException> {
}
"#;

    #[test]
    fn messages_become_the_text_where_there_is_one() {
        let patched = patch(GENERATED_ERROR).unwrap();
        assert_eq!(patched.matches(READABLE).count(), 2, "{patched}");
        assert!(!patched.contains("attemptsLeft=$"));
        assert!(patched.contains("get() = \"v=${ `v` }\""), "no toString(): left alone");
        assert!(patched.ends_with("}\n"));
        assert_eq!(patch(&patched).unwrap(), patched, "idempotent");
    }

    #[test]
    fn a_changed_template_fails_loudly() {
        let changed = GENERATED_ERROR.replace("            get() = \"\"", "    get() = \"\"");
        assert!(patch(&changed).is_err());
    }
}
