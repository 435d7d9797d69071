//! `twostep status`: the local state, and with `--online` the server's view.

use serde_json::{Value, json};
use twostep_core::{Access, Status, Twostep, UnixTime};

use super::now;
use crate::args::StatusArgs;
use crate::output::{
    Failure, Printer, passcode_json, passcode_text, prompt_json, prompt_text, registration_json,
    requirement_str, session_json,
};

pub async fn run(app: &Twostep, args: &StatusArgs, out: Printer) -> Result<(), Failure> {
    let mut two_step = None;
    if args.online {
        let me = app.session()?.me(now()).await?;
        two_step = Some(me.two_step);
    }
    let status = app.status(now())?;
    let passcode = app.passcode().state(now())?;
    let mut value = status_json(&status);
    value["passcode"] = passcode_json(&passcode);
    let mut text = status_text(&status, now());
    text.push_str(&format!("\nPasscode:     {}", passcode_text(&passcode, now())));
    if let Some(settings) = two_step {
        let channels: Vec<Value> = settings
            .channels
            .iter()
            .map(|c| json!({"channel": c.channel.as_str(), "masked_destination": c.masked_destination, "confirmed": c.confirmed}))
            .collect();
        value["two_step"] = json!({
            "enabled": settings.enabled,
            "preferred": settings.preferred.map(|c| c.as_str()),
            "channels": channels,
            "recovery_codes_left": settings.recovery_codes_left,
            "required_by_org": settings.required_by_org,
        });
        let names: Vec<&str> =
            settings.channels.iter().filter(|c| c.confirmed).map(|c| c.channel.as_str()).collect();
        text.push_str(&format!(
            "\nTwo-step:     {}{}",
            if settings.enabled { format!("on ({})", names.join(", ")) } else { "off".to_owned() },
            if settings.required_by_org { ", required by the organization" } else { "" },
        ));
    }
    out.success(value, &text);
    Ok(())
}

fn access_str(access: Access) -> &'static str {
    match access {
        Access::FirstAccess => "first_access",
        Access::Registered => "registered",
        Access::SignedIn => "signed_in",
        Access::Locked => "locked",
    }
}

fn status_json(status: &Status) -> Value {
    json!({
        "access": access_str(status.access),
        "server_url": status.server_url,
        "registration": status.registration.as_ref().map(registration_json),
        "session": status.session.as_ref().map(session_json),
        "pending_sign_in": status.pending_sign_in.as_ref().map(|p| json!({
            "username": p.username,
            "client": p.client.as_str(),
            "started_at": p.started_at.as_secs(),
            "prompt": prompt_json(&p.prompt),
        })),
        "clock_offset_ms": status.clock_offset.map(|o| o.offset_ms),
    })
}

fn status_text(status: &Status, now: UnixTime) -> String {
    let server = status.server_url.as_deref().unwrap_or("none yet (give --server to sign in)");
    let mut lines = vec![format!("Server:       {server}")];
    lines.push(format!(
        "Access:       {}",
        match status.access {
            Access::FirstAccess => "first access (sign in with password and code)",
            Access::Registered => "registered, no session (sign-in uses the registered key)",
            Access::SignedIn => "signed in",
            Access::Locked => "locked (enter the passcode: twostep unlock)",
        }
    ));
    if let Some(r) = &status.registration {
        let kind = match r.client {
            twostep_core::ClientKind::Agent => "Agent: ",
            _ => "Device:",
        };
        lines.push(format!(
            "{kind}       {} \"{}\" for {} ({}), registered {}",
            r.device_id,
            r.device_name,
            r.username,
            r.org,
            crate::time::local(r.registered_at)
        ));
        if let Some(p) = &r.passcode_policy {
            lines.push(format!(
                "Policy:       passcode {}, at least {} {}, {} failed attempts allowed",
                requirement_str(p.requirement),
                p.min_length,
                if p.alphanumeric { "characters" } else { "digits" },
                p.max_failed_attempts
            ));
        }
    }
    if let Some(s) = &status.session {
        lines.push(format!(
            "Session:      {} ({}) as {}, expires {}",
            s.username,
            s.org,
            s.client.as_str(),
            crate::time::at(s.expires_at, now)
        ));
    }
    if let Some(p) = &status.pending_sign_in {
        lines.push(format!(
            "Pending:      sign-in of {} started {}: {}",
            p.username,
            crate::time::local(p.started_at),
            prompt_text(&p.prompt)
        ));
    }
    if let Some(o) = status.clock_offset {
        lines.push(format!(
            "Clock offset: {:+.1} s (server minus local)",
            o.offset_ms as f64 / 1000.0
        ));
    }
    lines.join("\n")
}
