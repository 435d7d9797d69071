//! Turning records into the masked views clients see.

use crate::app::App;
use crate::model::{DeviceRecord, UserRecord};
use twostep_proto::{Channel, ChannelChoice, ChannelStatus, DeviceInfo, TwoStepSettings};

/// A user's settings with destinations masked.
pub async fn settings(app: &App, user: &UserRecord) -> TwoStepSettings {
    let ts = &user.two_step;
    let mut channels = Vec::new();
    if let Some(t) = &ts.totp {
        channels.push(ChannelStatus {
            channel: Channel::Totp,
            masked_destination: None,
            confirmed: t.confirmed,
        });
    }
    for c in [Channel::Sms, Channel::Email] {
        if let Some(s) = ts.sent(c) {
            let shown = if s.confirmed {
                &s.destination
            } else {
                s.pending_destination.as_ref().unwrap_or(&s.destination)
            };
            channels.push(ChannelStatus {
                channel: c,
                masked_destination: Some(crate::mask::destination(c, shown)),
                confirmed: s.confirmed,
            });
        }
    }
    let required = app.org(&user.org).await.map(|o| o.policy.require_two_step).unwrap_or(false);
    TwoStepSettings {
        enabled: ts.enabled(),
        origin: if ts.enabled() { ts.origin } else { None },
        preferred: ts.primary(),
        channels,
        recovery_codes_left: ts.recovery.len() as u32,
        required_by_org: required,
    }
}

/// A confirmed channel as a choice at sign-in.
pub fn choice(user: &UserRecord, c: Channel) -> ChannelChoice {
    ChannelChoice { channel: c, masked_destination: masked(user, c) }
}

/// The masked destination of a confirmed SMS/email channel.
pub fn masked(user: &UserRecord, c: Channel) -> Option<String> {
    user.two_step.sent(c).map(|s| crate::mask::destination(c, &s.destination))
}

/// A device as listed.
pub fn device(d: &DeviceRecord, user: &UserRecord) -> DeviceInfo {
    DeviceInfo {
        id: d.id.clone(),
        name: d.name.clone(),
        registered_at: d.registered_at,
        last_seen_at: d.last_seen_at,
        revoked: super::devices::is_revoked(d, user),
        client: d.client,
    }
}
