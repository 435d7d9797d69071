//! A text file of `otpauth://` URIs, one per line (what many apps export as "plain
//! text", and what [`crate::export::plain`] writes). Blank lines and lines starting with
//! `#` are skipped; errors are reported by line number.

use super::{Entry, entry_error};
use crate::error::Result;

pub(super) fn parse(text: &str) -> Result<Vec<Entry>> {
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .map(|(index, line)| {
            crate::uri::parse(line)
                .map_err(|e| entry_error(index + 1, crate::uri::label_hint(line), e))
        })
        .collect())
}
