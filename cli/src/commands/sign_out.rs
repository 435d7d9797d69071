//! `twostep sign-out`: ends the session; the device stays registered.

use serde_json::json;
use twostep_core::Twostep;

use super::now;
use crate::output::{Failure, Printer};

pub async fn run(app: &Twostep, out: Printer) -> Result<(), Failure> {
    let result = app.session()?.sign_out(now()).await?;
    let text = match (result.was_signed_in, result.server_confirmed) {
        (false, _) => "Not signed in.",
        (true, true) => "Signed out.",
        (true, false) => {
            "Signed out here; the server could not be reached, so the session stays valid there until it expires."
        }
    };
    out.success(json!({"status": "signed_out", "was_signed_in": result.was_signed_in, "server_confirmed": result.server_confirmed}), text);
    Ok(())
}
