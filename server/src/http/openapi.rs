//! The OpenAPI 3.1 document at `/openapi.json`, built from one table of endpoints so
//! that a test can check it against the router.

use serde_json::{Value, json};
use twostep_proto::ErrorCode;

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Anyone.
    None,
    /// A user session (setup-only sessions included).
    AnySession,
    /// A full user session.
    Session,
    /// An operator session.
    Operator,
}

/// One endpoint.
#[derive(Debug)]
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub auth: Auth,
    pub request: Option<&'static str>,
    pub response: &'static str,
    pub errors: &'static [ErrorCode],
}

use ErrorCode as E;
const SIGNIN: &[E] = &[
    E::InvalidRequest,
    E::InvalidField,
    E::PayloadTooLarge,
    E::UnsupportedMediaType,
    E::InvalidCredentials,
    E::RateLimited,
    E::AccountLocked,
    E::DeliveryFailed,
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
    E::ChannelNotConfigured,
    E::DeliveryFailed,
    E::Conflict,
];
const AUTH: &[E] = &[E::Unauthorized, E::Forbidden];
const CONFIRM: &[E] = &[
    E::Unauthorized,
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
    E::Conflict,
];
const DEVICE: &[E] = &[
    E::InvalidRequest,
    E::InvalidField,
    E::DeviceRevoked,
    E::BadSignature,
    E::ChallengeExpired,
    E::SetupRequired,
];

macro_rules! ep {
    ($m:literal, $p:literal, $s:literal, $a:ident, $req:expr, $resp:literal, $e:expr) => {
        Endpoint {
            method: $m,
            path: $p,
            summary: $s,
            auth: Auth::$a,
            request: $req,
            response: $resp,
            errors: $e,
        }
    };
}

/// Every endpoint.
pub const ENDPOINTS: &[Endpoint] = &[
    ep!("get", "/healthz", "Liveness", None, None, "Health", &[]),
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
        "Change the password; revokes every session and device",
        Session,
        Some("PasswordChange"),
        "Empty",
        &[E::Unauthorized, E::Forbidden, E::InvalidCredentials, E::InvalidField, E::InvalidRequest]
    ),
    ep!("get", "/v1/me/devices", "The user's devices", Session, None, "DeviceList", AUTH),
    ep!(
        "delete",
        "/v1/me/devices/{id}",
        "Unregister a device",
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
        "post",
        "/v1/me/two-step/totp",
        "Start authenticator enrollment: secret, otpauth URI, QR (SVG)",
        AnySession,
        None,
        "TotpEnrollment",
        &[E::Unauthorized, E::Conflict]
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
        &[E::Unauthorized, E::InvalidField, E::ResendTooSoon, E::DeliveryFailed]
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
        &[E::Unauthorized, E::InvalidField, E::ResendTooSoon, E::DeliveryFailed]
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
        "/v1/me/two-step/verify",
        "Step-up check of an authenticator code (each code once)",
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
        "Create the first operator with the setup token printed at start",
        None,
        Some("Bootstrap"),
        "Empty",
        &[E::Unauthorized, E::InvalidField, E::Conflict]
    ),
    ep!(
        "post",
        "/v1/admin/signin",
        "Operator sign-in",
        None,
        Some("OperatorSignIn"),
        "OperatorSession",
        SIGNIN
    ),
    ep!(
        "post",
        "/v1/admin/orgs",
        "Create an organization",
        Operator,
        Some("CreateOrg"),
        "OrgView",
        ADMIN_BODY
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
        ADMIN_BODY
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
        "Revoke all devices",
        Operator,
        None,
        "AdminUserView",
        ADMIN
    ),
    ep!(
        "delete",
        "/v1/admin/users/{username}/devices/{id}",
        "Revoke one device",
        Operator,
        None,
        "AdminUserView",
        ADMIN
    ),
    ep!(
        "get",
        "/v1/admin/audit",
        "Audit events (query: after, limit, user)",
        Operator,
        None,
        "AuditPage",
        &[E::Unauthorized, E::InvalidRequest]
    ),
];

/// The document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for ep in ENDPOINTS {
        let mut responses = serde_json::Map::new();
        let ok = match ep.response {
            "Empty" => json!({"description": "done"}),
            "Metrics" => {
                json!({"description": "Prometheus text", "content": {"text/plain": {"schema": {"type": "string"}}}})
            }
            r => {
                json!({"description": "ok", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{r}")}}}})
            }
        };
        responses.insert("2XX".into(), ok);
        let mut errors: Vec<ErrorCode> = ep.errors.to_vec();
        errors.extend([E::NotFound, E::MethodNotAllowed, E::Internal]);
        let mut by_status: std::collections::BTreeMap<u16, Vec<&str>> = Default::default();
        for e in errors {
            by_status.entry(e.http_status()).or_default().push(e.as_str());
        }
        for (status, codes) in by_status {
            responses.insert(
                status.to_string(),
                json!({"description": format!("error codes: {}", codes.join(", ")), "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}, "x-error-codes": codes}),
            );
        }
        let mut op = json!({ "summary": ep.summary, "responses": responses });
        if let Some(r) = ep.request {
            op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{r}")}}}});
        }
        match ep.auth {
            Auth::None => {}
            Auth::AnySession | Auth::Session => op["security"] = json!([{"session": []}]),
            Auth::Operator => op["security"] = json!([{"operator": []}]),
        }
        let params: Vec<Value> = ep
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string", "maxLength": 256}}))
            .collect();
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        let entry = paths.entry(ep.path.to_string()).or_insert_with(|| json!({}));
        entry[ep.method] = op;
    }
    let codes: Vec<Value> = ErrorCode::ALL.iter().map(|c| json!(c.as_str())).collect();
    let code_docs: Vec<Value> =
        ErrorCode::ALL.iter().map(|c| json!({"code": c.as_str(), "status": c.http_status(), "description": c.description()})).collect();
    let mut schemas = serde_json::Map::new();
    schemas.insert(
        "ErrorBody".into(),
        json!({"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string", "enum": codes}, "message": {"type": "string"},
            "retry_after_secs": {"type": "integer", "minimum": 0}, "attempts_left": {"type": "integer", "minimum": 0}}}}}),
    );
    for ep in ENDPOINTS {
        for name in ep.request.iter().chain(std::iter::once(&ep.response)) {
            if !matches!(*name, "Empty" | "Metrics") {
                schemas
                    .entry(name.to_string())
                    .or_insert_with(|| json!({"type": "object", "description": format!("See `twostep_proto::{name}`.")}));
            }
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "twostep server", "version": env!("CARGO_PKG_VERSION"), "x-error-codes": code_docs},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"session": {"type": "http", "scheme": "bearer"}, "operator": {"type": "http", "scheme": "bearer"}},
        },
    })
}
