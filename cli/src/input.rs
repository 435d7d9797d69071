//! Reading the password and codes: from the terminal when there is one, from standard
//! input when a script pipes them in.
//!
//! Standard input is read through one buffered reader for the whole run, so that
//! `--password-stdin` takes the first line and the code prompt the next ones.

use std::io::{BufRead, IsTerminal, Read};
use zeroize::Zeroizing;

use crate::output::Failure;

/// The longest line accepted from standard input.
const MAX_LINE: usize = 1024;

/// Standard input, shared by every prompt of one run.
#[derive(Debug)]
pub struct Input {
    stdin: std::io::StdinLock<'static>,
}

impl Input {
    /// Takes standard input.
    pub fn new() -> Self {
        Self { stdin: std::io::stdin().lock() }
    }

    /// One line without its end, or `None` at end of input.
    pub fn line(&mut self) -> Result<Option<Zeroizing<String>>, Failure> {
        let mut line = Zeroizing::new(String::new());
        let read = (&mut self.stdin)
            .take(MAX_LINE as u64 + 1)
            .read_line(&mut line)
            .map_err(|e| Failure::usage(format!("reading standard input: {e}")))?;
        if read == 0 {
            return Ok(None);
        }
        if line.len() > MAX_LINE {
            return Err(Failure::usage("input line too long"));
        }
        let end = line.trim_end_matches(['\r', '\n']).len();
        line.truncate(end);
        Ok(Some(line))
    }

    /// The password: the first line of standard input, or a no-echo terminal prompt.
    pub fn password(
        &mut self,
        from_stdin: bool,
        username: &str,
    ) -> Result<Zeroizing<String>, Failure> {
        if from_stdin {
            return self
                .line()?
                .ok_or_else(|| Failure::usage("--password-stdin: standard input is empty"));
        }
        if !std::io::stdin().is_terminal() {
            return Err(Failure::usage(
                "no terminal to ask for the password; use --password-stdin",
            ));
        }
        rpassword::prompt_password(format!("Password for {username}: "))
            .map(Zeroizing::new)
            .map_err(|e| Failure::usage(format!("reading the password: {e}")))
    }

    /// A passcode: the next line of standard input with `--passcode-stdin`, or a no-echo
    /// terminal prompt.
    pub fn passcode(
        &mut self,
        from_stdin: bool,
        prompt: &str,
    ) -> Result<Zeroizing<String>, Failure> {
        if from_stdin {
            return self.line()?.ok_or_else(|| {
                Failure::usage("--passcode-stdin: no passcode line on standard input")
            });
        }
        if !std::io::stdin().is_terminal() {
            return Err(Failure::usage(
                "no terminal to ask for the passcode; use --passcode-stdin",
            ));
        }
        rpassword::prompt_password(prompt)
            .map(Zeroizing::new)
            .map_err(|e| Failure::usage(format!("reading the passcode: {e}")))
    }

    /// A new passcode: one line with `--passcode-stdin`, or typed twice at a terminal.
    pub fn new_passcode(&mut self, from_stdin: bool) -> Result<Zeroizing<String>, Failure> {
        let passcode = self.passcode(from_stdin, "New passcode: ")?;
        if !from_stdin && *self.passcode(false, "Repeat the new passcode: ")? != *passcode {
            return Err(Failure::usage("the two passcodes differ"));
        }
        Ok(passcode)
    }

    /// A code typed at the prompt (visible: codes are single-use).
    pub fn code(&mut self) -> Result<Option<Zeroizing<String>>, Failure> {
        if std::io::stdin().is_terminal() {
            eprint!("Code: ");
        }
        self.line()
    }
}
