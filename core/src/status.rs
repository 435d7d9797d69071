//! What the app shows at launch, read from local state without the network.

use twostep_otp::UnixTime;
use twostep_proto::{ClientKind, PasscodePolicy};

use crate::clock::ClockOffset;
use crate::error::InternalResult;
use crate::local::Local;
use crate::passcode::{self, PasscodeStatus};
use crate::session::{CodePrompt, SessionInfo};
use crate::state::{PendingRecord, RegistrationRecord, SessionRecord, Slot};

/// Where the user stands on this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Nothing registered and no session: sign in with password and code.
    FirstAccess,
    /// The device (or desktop agent) is registered but has no live session: open one with
    /// [`crate::Session::open_session`] (no code needed).
    Registered,
    /// A live session exists.
    SignedIn,
    /// A passcode protects the account data and it has not been entered (or is being
    /// recovered): registration, session and pending sign-in are not readable. See
    /// [`Status::passcode`].
    Locked,
}

/// The local state, as of `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Where the user stands.
    pub access: Access,
    /// The server this instance talks to, if one is known.
    pub server_url: Option<String>,
    /// This data dir's registration (a mobile device or a desktop agent).
    pub registration: Option<Registration>,
    /// The live session, if any (an expired one is not reported).
    pub session: Option<SessionInfo>,
    /// A sign-in waiting for a code, if any.
    pub pending_sign_in: Option<PendingSignIn>,
    /// The server's clock offset, when measured.
    pub clock_offset: Option<ClockOffset>,
    /// Where the passcode stands (details: [`crate::Passcode::state`]).
    pub passcode: PasscodeStatus,
}

/// A registration: a mobile device or a desktop agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// Server-assigned id.
    pub device_id: String,
    /// What registered: [`ClientKind::Mobile`] or [`ClientKind::Agent`].
    pub client: ClientKind,
    /// The name it was registered under.
    pub device_name: String,
    /// Who registered it.
    pub username: String,
    /// The user's stable id.
    pub user_id: String,
    /// The user's organization.
    pub org: String,
    /// The server it was registered with.
    pub server_url: String,
    /// Local time.
    pub registered_at: UnixTime,
    /// The passcode policy the server last sent (with a mobile registration's grants).
    pub passcode_policy: Option<PasscodePolicy>,
}

impl Registration {
    pub(crate) fn from_record(
        record: RegistrationRecord,
        passcode_policy: Option<PasscodePolicy>,
    ) -> Self {
        Self {
            device_id: record.device_id,
            client: record.client,
            device_name: record.device_name,
            username: record.user.username,
            user_id: record.user.id,
            org: record.user.org,
            server_url: record.server_url,
            registered_at: record.registered_at,
            passcode_policy,
        }
    }
}

/// A sign-in waiting for its second step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSignIn {
    /// Who is signing in.
    pub username: String,
    /// As which client.
    pub client: ClientKind,
    /// The code screen to show.
    pub prompt: CodePrompt,
    /// Local time.
    pub started_at: UnixTime,
}

impl PendingSignIn {
    pub(crate) fn from_record(record: &PendingRecord, offset: ClockOffset) -> Self {
        Self {
            username: record.username.clone(),
            client: record.client,
            prompt: CodePrompt::from_challenge(&record.challenge, offset),
            started_at: record.started_at,
        }
    }
}

/// The status as of local time `now`, from the state alone.
pub(crate) fn read(
    local: &Local,
    server_url: Option<&str>,
    now: UnixTime,
) -> InternalResult<Status> {
    let offset = local.clock_offset()?;
    let corrected = offset.unwrap_or(ClockOffset::ZERO);
    let passcode = passcode::status_at(local, now)?;
    let server_url = server_url.map(str::to_owned);
    if !local.store.account_usable() {
        let access =
            if passcode == PasscodeStatus::Wiped { Access::FirstAccess } else { Access::Locked };
        return Ok(Status {
            access,
            server_url,
            registration: None,
            session: None,
            pending_sign_in: None,
            clock_offset: offset,
            passcode,
        });
    }
    let policy: Option<PasscodePolicy> = local.store.read(Slot::PasscodePolicy)?;
    let registration = local
        .store
        .read::<RegistrationRecord>(Slot::Registration)?
        .map(|record| Registration::from_record(record, policy));
    let session = local
        .store
        .read::<SessionRecord>(Slot::Session)?
        .filter(|record| record.expires_at > corrected.to_server(now))
        .map(|record| SessionInfo::from_record(&record, corrected));
    let pending_sign_in = local
        .store
        .read::<PendingRecord>(Slot::PendingSignIn)?
        .map(|record| PendingSignIn::from_record(&record, corrected));
    let access = match (&session, &registration) {
        (Some(_), _) => Access::SignedIn,
        (None, Some(_)) => Access::Registered,
        (None, None) => Access::FirstAccess,
    };
    Ok(Status {
        access,
        server_url,
        registration,
        session,
        pending_sign_in,
        clock_offset: offset,
        passcode,
    })
}
