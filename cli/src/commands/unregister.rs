//! `twostep unregister`: removes this device's registration.

use serde_json::json;
use twostep_core::Twostep;

use super::now;
use crate::args::UnregisterArgs;
use crate::output::{Failure, Printer};

pub async fn run(app: &Twostep, args: &UnregisterArgs, out: Printer) -> Result<(), Failure> {
    if args.local {
        app.session()?.forget_local()?;
        out.success(
            json!({"status": "unregistered", "server_confirmed": false}),
            "Forgot this device's registration locally; the server still lists it.",
        );
        return Ok(());
    }
    let result = app.session()?.unregister(now()).await?;
    out.success(
        json!({"status": "unregistered", "server_confirmed": true, "already_revoked": result.already_revoked}),
        if result.already_revoked {
            "The server had already revoked this device; its registration is gone here too."
        } else {
            "Unregistered this device."
        },
    );
    Ok(())
}
