//! `twostep sign-in USER`: the sign-in state machine at a terminal or in a script.
//!
//! A registered device (`--client mobile`, the default) or desktop agent (`--client agent`)
//! signs in with its key, no code, until the server revokes it. Otherwise: password (which
//! registers a mobile device or an agent), then the code step,
//! answered by `--code` / `--recovery-code` or typed at the prompt, where `resend`, a
//! channel name (`totp`, `sms`, `email`) or `recovery` are also understood. A script
//! that gets no code on standard input leaves the sign-in pending and exits 4; it can
//! finish with `--continue --code CODE` once the code has arrived.
//!
//! When a passcode locks the account data, `commands::run` unlocks first; with
//! `--forgot-passcode` it does not, and the core treats the password sign-in as "forgot
//! passcode". `--set-passcode` sets the passcode right after a mobile sign-in, in the same
//! run (only then can the password also recover the data protected by that passcode).

use serde_json::json;
use twostep_core::{Channel, ClientKind, CodePrompt, SignInStep, Twostep, TwostepError};

use super::now;
use crate::args::SignInArgs;
use crate::input::Input;
use crate::output::{
    Exit, Failure, Printer, policy_json, prompt_json, prompt_text, requirement_str, session_json,
};

pub async fn run(
    app: &Twostep,
    args: &SignInArgs,
    passcode_stdin: bool,
    out: Printer,
) -> Result<(), Failure> {
    let client = ClientKind::from(args.client);
    let username = twostep_proto::normalize_username(&args.username)
        .ok_or_else(|| Failure::usage(format!("{:?} is not a valid username", args.username)))?;
    let status = app.status(now())?;
    let mut input = Input::new();

    let step = if args.resume {
        let pending = status
            .pending_sign_in
            .filter(|p| p.username == username)
            .ok_or_else(|| Failure::from(TwostepError::NoSignInInProgress))?;
        SignInStep::CodeRequired(pending.prompt)
    } else if !args.with_password
        && status
            .registration
            .as_ref()
            .is_some_and(|r| r.username == username && r.client == client)
    {
        let session = app.session()?.open_session(now()).await?;
        let whose = match client {
            ClientKind::Agent => "this agent's",
            _ => "this device's",
        };
        out.success(
            json!({"status": "signed_in", "method": "device_key", "session": session_json(&session)}),
            &format!("Signed in as {} ({}) with {whose} key.", session.username, session.org),
        );
        return Ok(());
    } else {
        let password = input.password(args.password_stdin, &username)?;
        app.session()?.sign_in(&username, &password, client, now()).await?
    };
    CodeStep { app, args, out, input, switched: args.channel.is_none(), passcode_stdin }
        .drive(step)
        .await
}

/// The code step, until the sign-in completes or fails.
struct CodeStep<'a> {
    app: &'a Twostep,
    args: &'a SignInArgs,
    out: Printer,
    input: Input,
    /// `--channel` has been honoured (or was not given).
    switched: bool,
    /// `--passcode-stdin`.
    passcode_stdin: bool,
}

impl CodeStep<'_> {
    async fn drive(mut self, mut step: SignInStep) -> Result<(), Failure> {
        let mut code = self.args.code.clone();
        let mut recovery_code = self.args.recovery_code.clone();
        loop {
            let prompt = match step {
                SignInStep::CodeRequired(prompt) => prompt,
                other => return self.finish(other),
            };
            if let Some(channel) = self.args.channel.filter(|_| !self.switched) {
                self.switched = true;
                let channel = Channel::from(channel);
                if prompt.channel != channel {
                    step = SignInStep::CodeRequired(
                        self.app.session()?.switch_channel(channel, now()).await?,
                    );
                    continue;
                }
            }
            if let Some(recovery) = recovery_code.take() {
                step = self.app.session()?.use_recovery_code(&recovery, now()).await?;
                continue;
            }
            if let Some(code) = code.take() {
                step = self.app.session()?.submit_code(&code, now()).await?;
                continue;
            }
            step = self.interactive(prompt).await?;
        }
    }

    /// One round at the prompt.
    async fn interactive(&mut self, prompt: CodePrompt) -> Result<SignInStep, Failure> {
        self.out.note(&prompt_text(&prompt));
        let Some(line) = self.input.code()? else {
            return Err(Failure {
                code: "code_required".into(),
                message: format!(
                    "a code is required; when it has arrived run: twostep sign-in {} --continue --code CODE",
                    self.args.username
                ),
                details: Default::default(),
                exit: Exit::Code,
            }
            .with("prompt", prompt_json(&prompt)));
        };
        let answer = match line.trim() {
            "resend" => self.app.session()?.resend_code(now()).await.map(SignInStep::CodeRequired),
            "recovery" => {
                self.out.note("Enter a recovery code:");
                match self.input.line()? {
                    Some(recovery) => self.app.session()?.use_recovery_code(&recovery, now()).await,
                    None => return Err(Failure::usage("no recovery code given")),
                }
            }
            word if Channel::parse(word).is_some() => {
                let channel = Channel::parse(word).unwrap_or(prompt.channel);
                self.app
                    .session()?
                    .switch_channel(channel, now())
                    .await
                    .map(SignInStep::CodeRequired)
            }
            typed => self.app.session()?.submit_code(typed, now()).await,
        };
        match answer {
            Ok(step) => Ok(step),
            // Worth another try at the prompt; the same prompt, updated.
            Err(TwostepError::InvalidCode { attempts_left }) if attempts_left > 0 => {
                self.out.note(&format!("Wrong code; {attempts_left} attempts left."));
                Ok(SignInStep::CodeRequired(CodePrompt { attempts_left, ..prompt }))
            }
            Err(
                e @ (TwostepError::ResendTooSoon { .. }
                | TwostepError::ChannelNotConfigured
                | TwostepError::CodeExpired),
            ) => {
                self.out.note(&e.to_string());
                Ok(SignInStep::CodeRequired(prompt))
            }
            Err(e @ TwostepError::InvalidInput { .. }) => {
                self.out.note(&e.to_string());
                Ok(SignInStep::CodeRequired(prompt))
            }
            Err(e) => Err(e.into()),
        }
    }

    fn finish(&mut self, step: SignInStep) -> Result<(), Failure> {
        match step {
            SignInStep::SignedIn(session) => {
                let registered = match &session.device_id {
                    Some(id) => {
                        format!("; this machine is registered as {} {id}", session.client.as_str())
                    }
                    None => String::new(),
                };
                self.out.success(
                    json!({"status": "signed_in", "method": "password", "session": session_json(&session)}),
                    &format!(
                        "Signed in as {} ({}) as {}{registered}.",
                        session.username,
                        session.org,
                        session.client.as_str()
                    ),
                );
                Ok(())
            }
            SignInStep::PasscodeSetup { requirement, policy, session } => {
                let passcode_set = self.args.set_passcode;
                if passcode_set {
                    let passcode = self.input.new_passcode(self.passcode_stdin)?;
                    self.app.passcode().set(&passcode, now())?;
                }
                let device = session.device_id.clone().unwrap_or_default();
                let rule = match requirement {
                    twostep_core::PasscodeRequirement::Required => "required by your organization",
                    twostep_core::PasscodeRequirement::Optional => "optional",
                };
                self.out.success(
                    json!({
                        "status": "passcode_setup",
                        "method": "password",
                        "requirement": requirement_str(requirement),
                        "policy": policy_json(&policy),
                        "session": session_json(&session),
                        "passcode_set": passcode_set,
                    }),
                    &format!(
                        "Signed in as {} ({}); this machine is registered as device {device}.\n\
                         A passcode is {rule} (at least {} {}){}.",
                        session.username,
                        session.org,
                        policy.min_length,
                        if policy.alphanumeric { "characters" } else { "digits" },
                        if passcode_set {
                            "; it is set"
                        } else {
                            "; set it with: twostep passcode set"
                        },
                    ),
                );
                Ok(())
            }
            SignInStep::SetupRequired { message, session } => {
                let mut failure = Failure::from(TwostepError::SetupRequired { message });
                if let Some(session) = session {
                    failure = failure.with("session", session_json(&session));
                }
                Err(failure)
            }
            SignInStep::CodeRequired(_) => Err(Failure::from(TwostepError::NoSignInInProgress)),
        }
    }
}
