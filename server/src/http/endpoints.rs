//! The table of every endpoint: method, path, auth, request and response types, and the
//! error codes it can answer. The OpenAPI document is built from it, and a test checks it
//! against the router.

use super::openapi::{Auth, Endpoint};
use twostep_proto::ErrorCode;

use ErrorCode as E;
const SIGNIN: &[E] = &[
    E::InvalidRequest,
    E::InvalidField,
    E::PayloadTooLarge,
    E::UnsupportedMediaType,
    E::RequestTimeout,
    E::InvalidCredentials,
    E::RateLimited,
    E::AccountLocked,
    E::BadSignature,
    E::ChallengeExpired,
    E::DeliveryFailed,
    E::SendLimitReached,
    E::Unavailable,
];
const OPERATOR_SIGNIN: &[E] = &[
    E::InvalidRequest,
    E::PayloadTooLarge,
    E::UnsupportedMediaType,
    E::RequestTimeout,
    E::InvalidCredentials,
    E::RateLimited,
    E::AccountLocked,
    E::Unavailable,
];
const CHALLENGE: &[E] = &[
    E::InvalidRequest,
    E::InvalidField,
    E::InvalidCode,
    E::CodeExpired,
    E::ChallengeExpired,
    E::RateLimited,
    E::AccountLocked,
    E::ChannelNotConfigured,
];
const RESEND: &[E] = &[
    E::ChallengeExpired,
    E::ResendTooSoon,
    E::RateLimited,
    E::SendLimitReached,
    E::ChannelNotConfigured,
    E::DeliveryFailed,
    E::Conflict,
];
const AUTH: &[E] = &[E::Unauthorized, E::Forbidden, E::DeviceRevoked];
const ENROLL: &[E] = &[
    E::Unauthorized,
    E::InvalidField,
    E::SetupComplete,
    E::ResendTooSoon,
    E::SendLimitReached,
    E::DeliveryFailed,
];
const CONFIRM: &[E] = &[
    E::Unauthorized,
    E::SetupComplete,
    E::RequestTimeout,
    E::InvalidRequest,
    E::InvalidField,
    E::InvalidCode,
    E::CodeExpired,
    E::Conflict,
];
const ADMIN: &[E] = &[E::Unauthorized, E::NotFound];
const ADMIN_BODY: &[E] = &[
    E::Unauthorized,
    E::NotFound,
    E::InvalidRequest,
    E::InvalidField,
    E::PayloadTooLarge,
    E::UnsupportedMediaType,
    E::RequestTimeout,
    E::Conflict,
];
/// Creating a user hashes the password: a full hash queue answers `unavailable`.
const CREATE_USER: &[E] = &[
    E::Unauthorized,
    E::NotFound,
    E::InvalidRequest,
    E::InvalidField,
    E::PayloadTooLarge,
    E::UnsupportedMediaType,
    E::RequestTimeout,
    E::Conflict,
    E::Unavailable,
];
const DEVICE: &[E] = &[
    E::InvalidRequest,
    E::InvalidField,
    E::RateLimited,
    E::DeviceRevoked,
    E::BadSignature,
    E::ChallengeExpired,
    E::SetupRequired,
];

macro_rules! ep {
    ($m:literal, $p:literal, $s:literal, $a:ident, $req:expr, $resp:literal, $e:expr $(, $field:ident = $v:expr)* $(,)?) => {
        Endpoint { $($field: $v,)* ..Endpoint::new($m, $p, $s, Auth::$a, $req, $resp, $e) }
    };
}

/// Every endpoint.
pub const ENDPOINTS: &[Endpoint] = &[
    ep!("get", "/healthz", "Liveness", None, None, "Health", &[]),
    ep!(
        "get",
        "/readyz",
        "Readiness: the store answers (the load balancer's health check)",
        None,
        None,
        "Ready",
        &[E::Unavailable]
    ),
    ep!("get", "/metrics", "Prometheus metrics (text)", None, None, "Metrics", &[]),
    ep!("get", "/openapi.json", "This document", None, None, "OpenApi", &[]),
    ep!(
        "post",
        "/v1/signin",
        "Password sign-in for a client kind; answers with a session, a code challenge or setup required",
        None,
        Some("SignInRequest"),
        "SignInResponse",
        SIGNIN
    ),
    ep!(
        "delete",
        "/v1/signin/{id}",
        "Cancel a pending sign-in",
        None,
        None,
        "Empty",
        &[E::ChallengeExpired]
    ),
    ep!(
        "get",
        "/v1/signin/{id}",
        "The open code challenge as the prompt shows it (sends nothing)",
        None,
        None,
        "CodeChallenge",
        &[E::ChallengeExpired]
    ),
    ep!(
        "post",
        "/v1/signin/{id}/code",
        "Submit the second-step code",
        None,
        Some("CodeSubmission"),
        "SignInResponse",
        CHALLENGE
    ),
    ep!(
        "post",
        "/v1/signin/{id}/recovery",
        "Use a recovery code instead",
        None,
        Some("CodeSubmission"),
        "SignInResponse",
        CHALLENGE
    ),
    ep!(
        "post",
        "/v1/signin/{id}/resend",
        "Send a new SMS/email code (after 30 s); the previous one stops working",
        None,
        None,
        "CodeChallenge",
        RESEND
    ),
    ep!(
        "post",
        "/v1/signin/{id}/channel",
        "Switch to another configured channel",
        None,
        Some("ChannelSwitch"),
        "CodeChallenge",
        RESEND
    ),
    ep!(
        "post",
        "/v1/device/challenge",
        "A nonce for a registered device to sign",
        None,
        Some("DeviceChallengeRequest"),
        "DeviceChallenge",
        DEVICE
    ),
    ep!(
        "post",
        "/v1/device/registration-challenge",
        "A single-use nonce that a mobile device or an agent signs to register its key",
        None,
        None,
        "DeviceChallenge",
        &[E::RateLimited]
    ),
    ep!(
        "post",
        "/v1/device/session",
        "A session for a registered device, from its signature",
        None,
        Some("DeviceSessionRequest"),
        "SessionGrant",
        DEVICE
    ),
    ep!("post", "/v1/signout", "End this session", AnySession, None, "Empty", AUTH),
    ep!(
        "get",
        "/v1/me",
        "The user and their two-step settings",
        AnySession,
        None,
        "MeResponse",
        AUTH
    ),
    ep!(
        "post",
        "/v1/me/password",
        "Change the password (with a fresh code when the user has two-step); revokes every session and device",
        Session,
        Some("PasswordChange"),
        "Empty",
        &[
            E::Unauthorized,
            E::Forbidden,
            E::InvalidCredentials,
            E::InvalidField,
            E::InvalidRequest,
            E::StepUpRequired,
            E::InvalidCode,
            E::ChannelNotConfigured,
            E::RateLimited,
            E::AccountLocked,
            E::Unavailable
        ]
    ),
    ep!("get", "/v1/me/devices", "The user's devices", Session, None, "DeviceList", AUTH),
    ep!(
        "get",
        "/v1/me/sessions",
        "Where the user is signed in: web, agent, Outlook and mobile sessions",
        Session,
        None,
        "SessionList",
        AUTH
    ),
    ep!(
        "delete",
        "/v1/me/sessions/{id}",
        "End one of the user's sessions",
        Session,
        None,
        "Empty",
        &[E::Unauthorized, E::Forbidden, E::DeviceRevoked, E::NotFound]
    ),
    ep!(
        "delete",
        "/v1/me/devices/{id}",
        "Unregister a device or agent; its sessions end",
        Session,
        None,
        "Empty",
        &[E::Unauthorized, E::Forbidden, E::NotFound]
    ),
    ep!(
        "delete",
        "/v1/me/two-step",
        "Turn two-step off (refused while the org requires it)",
        Session,
        None,
        "TwoStepSettings",
        &[E::Unauthorized, E::Forbidden, E::PolicyRequiresTwoStep]
    ),
    ep!(
        "get",
        "/v1/me/two-step/totp",
        "The pending authenticator enrollment again (null when none is pending)",
        AnySession,
        None,
        "Option<TotpEnrollment>",
        AUTH
    ),
    ep!(
        "post",
        "/v1/me/two-step/totp",
        "Start authenticator enrollment: secret, otpauth URI, QR (SVG)",
        AnySession,
        None,
        "TotpEnrollment",
        &[E::Unauthorized, E::Conflict, E::SetupComplete]
    ),
    ep!(
        "post",
        "/v1/me/two-step/totp/confirm",
        "Activate the authenticator with a correct code",
        AnySession,
        Some("CodeSubmission"),
        "EnrollmentResult",
        CONFIRM
    ),
    ep!(
        "post",
        "/v1/me/two-step/sms",
        "Send a confirmation code to a phone",
        AnySession,
        Some("PhoneEnrollment"),
        "PendingDelivery",
        ENROLL
    ),
    ep!(
        "post",
        "/v1/me/two-step/sms/confirm",
        "Confirm the phone",
        AnySession,
        Some("CodeSubmission"),
        "EnrollmentResult",
        CONFIRM
    ),
    ep!(
        "post",
        "/v1/me/two-step/email",
        "Send a confirmation code to an email address",
        AnySession,
        Some("EmailEnrollment"),
        "PendingDelivery",
        ENROLL
    ),
    ep!(
        "post",
        "/v1/me/two-step/email/confirm",
        "Confirm the email address",
        AnySession,
        Some("CodeSubmission"),
        "EnrollmentResult",
        CONFIRM
    ),
    ep!(
        "delete",
        "/v1/me/two-step/channels/{channel}",
        "Remove a channel (totp, sms, email)",
        Session,
        None,
        "TwoStepSettings",
        &[
            E::Unauthorized,
            E::Forbidden,
            E::NotFound,
            E::ChannelNotConfigured,
            E::PolicyRequiresTwoStep
        ]
    ),
    ep!(
        "put",
        "/v1/me/two-step/preferred",
        "Choose the channel prompted first",
        Session,
        Some("PreferredChannel"),
        "TwoStepSettings",
        &[E::Unauthorized, E::Forbidden, E::ChannelNotConfigured, E::InvalidRequest]
    ),
    ep!(
        "post",
        "/v1/me/two-step/recovery-codes",
        "Ten new recovery codes; the old set stops working",
        Session,
        None,
        "RecoveryCodes",
        &[E::Unauthorized, E::Forbidden, E::Conflict]
    ),
    ep!(
        "post",
        "/v1/me/two-step/step-up",
        "Send a step-up code by SMS or email to this session's user (same cooldown and caps)",
        Session,
        Some("StepUpRequest"),
        "PendingDelivery",
        &[
            E::Unauthorized,
            E::Forbidden,
            E::InvalidRequest,
            E::ChannelNotConfigured,
            E::ResendTooSoon,
            E::SendLimitReached,
            E::DeliveryFailed
        ]
    ),
    ep!(
        "post",
        "/v1/me/two-step/verify",
        "Step-up check of an authenticator code or a sent step-up code (each code once)",
        Session,
        Some("CodeSubmission"),
        "VerifyResult",
        &[
            E::Unauthorized,
            E::Forbidden,
            E::InvalidField,
            E::InvalidCode,
            E::ChannelNotConfigured,
            E::RateLimited,
            E::AccountLocked
        ]
    ),
    ep!(
        "post",
        "/v1/admin/bootstrap",
        "Create the first operator with the one-time setup token printed at start",
        None,
        Some("Bootstrap"),
        "Empty",
        &[E::Unauthorized, E::InvalidField, E::Conflict, E::Unavailable],
        status = 201
    ),
    ep!(
        "post",
        "/v1/admin/signin",
        "Operator sign-in",
        None,
        Some("OperatorSignIn"),
        "OperatorSession",
        OPERATOR_SIGNIN
    ),
    ep!("post", "/v1/admin/signout", "End this operator token", Operator, None, "Empty", ADMIN),
    ep!(
        "get",
        "/v1/admin/operators/{name}",
        "An operator's lock state and failure count",
        Operator,
        None,
        "OperatorStatus",
        ADMIN
    ),
    ep!(
        "post",
        "/v1/admin/operators/{name}/unlock",
        "Clear an operator's failure counter and lock",
        Operator,
        None,
        "OperatorStatus",
        ADMIN
    ),
    ep!(
        "delete",
        "/v1/admin/operators/{name}/sessions",
        "Revoke every token of an operator",
        Operator,
        None,
        "Empty",
        ADMIN
    ),
    ep!("get", "/v1/admin/orgs", "Every organization", Operator, None, "OrgList", ADMIN),
    ep!(
        "post",
        "/v1/admin/orgs",
        "Create an organization",
        Operator,
        Some("CreateOrg"),
        "OrgView",
        ADMIN_BODY,
        status = 201
    ),
    ep!(
        "get",
        "/v1/admin/orgs/{org}",
        "An organization and its policy",
        Operator,
        None,
        "OrgView",
        ADMIN
    ),
    ep!(
        "post",
        "/v1/admin/orgs/{org}/policy/preview",
        "What a policy change would do (users affected), without saving it",
        Operator,
        Some("PolicyUpdate"),
        "PolicyPreview",
        ADMIN_BODY
    ),
    ep!(
        "patch",
        "/v1/admin/orgs/{org}/policy",
        "Change the policy (Require Two-Step Authentication, passcode rules)",
        Operator,
        Some("PolicyUpdate"),
        "OrgView",
        ADMIN_BODY
    ),
    ep!(
        "post",
        "/v1/admin/orgs/{org}/users",
        "Create a user",
        Operator,
        Some("CreateUser"),
        "AdminUserView",
        CREATE_USER,
        status = 201
    ),
    ep!(
        "post",
        "/v1/admin/orgs/{org}/remove-forced-two-step",
        "Remove enrollments made only because of the policy (policy must be off)",
        Operator,
        None,
        "RemovedCount",
        &[E::Unauthorized, E::NotFound, E::PolicyRequiresTwoStep]
    ),
    ep!(
        "get",
        "/v1/admin/users",
        "Users by name (query: q, org, after, limit)",
        Operator,
        None,
        "UserList",
        &[E::Unauthorized, E::NotFound, E::InvalidRequest, E::InvalidField],
        query = Some("UsersQuery")
    ),
    ep!(
        "get",
        "/v1/admin/users/{username}",
        "A user, their two-step settings, lock state and devices",
        Operator,
        None,
        "AdminUserView",
        ADMIN
    ),
    ep!(
        "post",
        "/v1/admin/users/{username}/reset-two-step",
        "Clear two-step; revoke sessions and devices",
        Operator,
        None,
        "AdminUserView",
        ADMIN
    ),
    ep!(
        "post",
        "/v1/admin/users/{username}/unlock",
        "Clear failure counters and the lock",
        Operator,
        None,
        "AdminUserView",
        ADMIN
    ),
    ep!(
        "delete",
        "/v1/admin/users/{username}/devices",
        "Revoke all registrations (devices and agents) and end their sessions",
        Operator,
        None,
        "AdminUserView",
        ADMIN
    ),
    ep!(
        "delete",
        "/v1/admin/users/{username}/devices/{id}",
        "Revoke one registration (device or agent) and end its sessions",
        Operator,
        None,
        "AdminUserView",
        ADMIN
    ),
    ep!(
        "get",
        "/v1/admin/audit",
        "Audit events, oldest first (query: after, limit, user, kind, from_ms, to_ms)",
        Operator,
        None,
        "AuditPage",
        &[E::Unauthorized, E::InvalidRequest],
        query = Some("AuditQuery")
    ),
];
