//! Routes and thin handlers: parse, call the service, answer.

use super::extract::{
    AnySession, BodyDeadline, FullSession, JsonBody, Operator, OperatorToken, Query, Seg, Seg2,
};
use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::service::admin::{self, Actor};
use crate::service::signin::Origin;
use crate::service::{devices, directory, operators, selfservice, signed_in, signin, stepup};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put};
use axum::{Json, Router};
use std::sync::Arc;
use twostep_proto::*;

type S = State<Arc<App>>;

/// The router with every endpoint.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/v1/signin", post(sign_in))
        .route("/v1/signin/{id}", get(challenge).delete(cancel))
        .route("/v1/signin/{id}/code", post(submit_code))
        .route("/v1/signin/{id}/recovery", post(recovery))
        .route("/v1/signin/{id}/resend", post(resend))
        .route("/v1/signin/{id}/channel", post(switch_channel))
        .route("/v1/device/challenge", post(device_challenge))
        .route("/v1/device/session", post(device_session))
        .route("/v1/device/registration-challenge", post(registration_challenge))
        .route("/v1/signout", post(sign_out))
        .route("/v1/me", get(me))
        .route("/v1/me/password", post(change_password))
        .route("/v1/me/devices", get(list_devices))
        .route("/v1/me/sessions", get(list_sessions))
        .route("/v1/me/sessions/{id}", delete(revoke_session))
        .route("/v1/me/devices/{id}", delete(revoke_device))
        .route("/v1/me/two-step", delete(disable))
        .route("/v1/me/two-step/totp", get(pending_totp).post(enroll_totp))
        .route("/v1/me/two-step/totp/confirm", post(confirm_totp))
        .route("/v1/me/two-step/sms", post(enroll_sms))
        .route("/v1/me/two-step/sms/confirm", post(confirm_sms))
        .route("/v1/me/two-step/email", post(enroll_email))
        .route("/v1/me/two-step/email/confirm", post(confirm_email))
        .route("/v1/me/two-step/channels/{channel}", delete(remove_channel))
        .route("/v1/me/two-step/preferred", put(set_preferred))
        .route("/v1/me/two-step/recovery-codes", post(regenerate_recovery))
        .route("/v1/me/two-step/step-up", post(step_up))
        .route("/v1/me/two-step/verify", post(verify))
        .route("/v1/admin/bootstrap", post(bootstrap))
        .route("/v1/admin/signin", post(operator_sign_in))
        .route("/v1/admin/signout", post(operator_sign_out))
        .route("/v1/admin/operators/{name}", get(operator_status))
        .route("/v1/admin/operators/{name}/unlock", post(operator_unlock))
        .route("/v1/admin/operators/{name}/sessions", delete(operator_revoke_sessions))
        .route("/v1/admin/orgs", get(list_orgs).post(create_org))
        .route("/v1/admin/orgs/{org}", get(get_org))
        .route("/v1/admin/orgs/{org}/policy", patch(update_policy))
        .route("/v1/admin/orgs/{org}/policy/preview", post(policy_preview))
        .route("/v1/admin/orgs/{org}/users", post(create_user))
        .route("/v1/admin/orgs/{org}/remove-forced-two-step", post(remove_forced))
        .route("/v1/admin/users", get(list_users))
        .route("/v1/admin/users/{username}", get(get_user))
        .route("/v1/admin/users/{username}/reset-two-step", post(reset_two_step))
        .route("/v1/admin/users/{username}/unlock", post(unlock))
        .route("/v1/admin/users/{username}/devices", delete(revoke_all_devices))
        .route("/v1/admin/users/{username}/devices/{id}", delete(revoke_one_device))
        .route("/v1/admin/audit", get(audit))
        .merge(crate::web::router(app.clone()))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(app.clone(), stamp))
        .with_state(app)
}

/// Sets the body deadline, runs the request to completion, adds the server-time header and
/// counts answers.
///
/// A request runs in a task of its own, so a client that goes away (an app killed, a
/// dropped connection) does not cancel it halfway: every service reserves an attempt before
/// its check and hands it back after (a right password must not stay counted as a failure),
/// and some operations are two writes (the first channel's confirmation and the upgrade of
/// the confirming session). Once the request has been read, the server finishes it.
async fn stamp(State(app): S, mut req: Request, next: Next) -> Response {
    let body_timeout = std::time::Duration::from_secs(app.config.body_timeout_secs.max(1));
    req.extensions_mut().insert(BodyDeadline(body_timeout));
    let mut resp = match tokio::spawn(next.run(req)).await {
        Ok(resp) => resp,
        // Not the panic's message: it could hold request data.
        Err(e) => {
            ApiError::internal(if e.is_panic() { "the request panicked" } else { "cancelled" })
                .into_response()
        }
    };
    crate::metrics::inc(&app.metrics.http_requests_total);
    let s = resp.status();
    if s.is_client_error() {
        crate::metrics::inc(&app.metrics.http_client_errors_total);
    } else if s.is_server_error() {
        crate::metrics::inc(&app.metrics.http_server_errors_total);
    }
    if let Ok(v) = HeaderValue::from_str(&crate::clock::now_ms().to_string()) {
        resp.headers_mut().insert(HEADER_SERVER_TIME, v);
    }
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

async fn not_found() -> ApiError {
    ApiError::not_found("route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed, "method not allowed on this route")
}

async fn healthz() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

/// Ready to serve: the store answers within 2 s (PostgreSQL reachable). Load balancers
/// check this; `/healthz` only says that the process runs.
async fn readyz(State(app): S) -> Result<Json<Ready>, ApiError> {
    let probe = app.repo.store().get(crate::store::Tree::Meta, b"schema");
    match tokio::time::timeout(std::time::Duration::from_secs(2), probe).await {
        Ok(Ok(_)) => Ok(Json(Ready { status: "ready".into() })),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the store failed");
            Err(ApiError::new(ErrorCode::Unavailable, "the store does not answer")
                .with_retry_after(1))
        }
        Err(_) => {
            tracing::warn!("readiness: the store did not answer within 2 s");
            Err(ApiError::new(ErrorCode::Unavailable, "the store does not answer")
                .with_retry_after(1))
        }
    }
}

async fn metrics(State(app): S) -> impl IntoResponse {
    let gauges = [
        ("password_hash_queue", "Password hashes waiting or running.", app.hasher.queued() as u64),
        ("store_flushes", "Group flushes to disk so far.", app.repo.store().flush_count()),
    ];
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], app.metrics.render(&gauges))
}

async fn openapi() -> Json<serde_json::Value> {
    Json(super::openapi::document())
}

fn channel_of(s: &str) -> ApiResult<Channel> {
    Channel::parse(s).ok_or_else(|| ApiError::not_found("channel"))
}

async fn sign_in(
    State(app): S,
    o: Origin,
    JsonBody(req): JsonBody<SignInRequest>,
) -> ApiResult<Json<SignInResponse>> {
    signin::sign_in(&app, req, o).await.map(Json)
}

async fn submit_code(
    State(app): S,
    o: Origin,
    Seg(id): Seg,
    JsonBody(req): JsonBody<CodeSubmission>,
) -> ApiResult<Json<SignInResponse>> {
    signin::submit_code(&app, &id, req, o).await.map(Json)
}

async fn recovery(
    State(app): S,
    o: Origin,
    Seg(id): Seg,
    JsonBody(req): JsonBody<CodeSubmission>,
) -> ApiResult<Json<SignInResponse>> {
    signin::use_recovery(&app, &id, req, o).await.map(Json)
}

async fn resend(State(app): S, o: Origin, Seg(id): Seg) -> ApiResult<Json<CodeChallenge>> {
    signin::resend(&app, &id, None, o).await.map(Json)
}

async fn switch_channel(
    State(app): S,
    o: Origin,
    Seg(id): Seg,
    JsonBody(req): JsonBody<ChannelSwitch>,
) -> ApiResult<Json<CodeChallenge>> {
    signin::resend(&app, &id, Some(req.channel), o).await.map(Json)
}

async fn challenge(State(app): S, o: Origin, Seg(id): Seg) -> ApiResult<Json<CodeChallenge>> {
    signin::challenge(&app, &id, o.now).await.map(Json)
}

async fn cancel(State(app): S, o: Origin, Seg(id): Seg) -> ApiResult<StatusCode> {
    signin::cancel(&app, &id, o).await.map(|_| StatusCode::NO_CONTENT)
}

async fn device_challenge(
    State(app): S,
    o: Origin,
    JsonBody(req): JsonBody<DeviceChallengeRequest>,
) -> ApiResult<Json<DeviceChallenge>> {
    devices::challenge(&app, &req, o.now).await.map(Json)
}

async fn registration_challenge(State(app): S, o: Origin) -> ApiResult<Json<DeviceChallenge>> {
    devices::registration_challenge(&app, &o).await.map(Json)
}

async fn device_session(
    State(app): S,
    o: Origin,
    JsonBody(req): JsonBody<DeviceSessionRequest>,
) -> ApiResult<Json<SessionGrant>> {
    devices::session(&app, req, o).await.map(Json)
}

async fn sign_out(State(app): S, o: Origin, AnySession(a): AnySession) -> ApiResult<StatusCode> {
    selfservice::sign_out(&app, &a, o).await.map(|_| StatusCode::NO_CONTENT)
}

async fn me(State(app): S, AnySession(a): AnySession) -> Json<MeResponse> {
    Json(selfservice::me(&app, &a).await)
}

async fn change_password(
    State(app): S,
    o: Origin,
    FullSession(a): FullSession,
    JsonBody(req): JsonBody<PasswordChange>,
) -> ApiResult<StatusCode> {
    stepup::change_password(&app, &a, req, o).await.map(|_| StatusCode::NO_CONTENT)
}

async fn list_devices(State(app): S, FullSession(a): FullSession) -> ApiResult<Json<DeviceList>> {
    selfservice::list_devices(&app, &a).await.map(Json)
}

async fn list_sessions(
    State(app): S,
    o: Origin,
    FullSession(a): FullSession,
) -> ApiResult<Json<SessionList>> {
    signed_in::list(&app, &a, o.now).await.map(Json)
}

async fn revoke_session(
    State(app): S,
    o: Origin,
    FullSession(a): FullSession,
    Seg(id): Seg,
) -> ApiResult<StatusCode> {
    signed_in::revoke(&app, &a, &id, o).await.map(|_| StatusCode::NO_CONTENT)
}

async fn revoke_device(
    State(app): S,
    o: Origin,
    FullSession(a): FullSession,
    Seg(id): Seg,
) -> ApiResult<StatusCode> {
    selfservice::revoke_device(&app, &a, &id, o).await.map(|_| StatusCode::NO_CONTENT)
}

async fn disable(
    State(app): S,
    o: Origin,
    FullSession(a): FullSession,
) -> ApiResult<Json<TwoStepSettings>> {
    selfservice::disable(&app, &a, o).await.map(Json)
}

async fn pending_totp(
    State(app): S,
    AnySession(a): AnySession,
) -> ApiResult<Json<Option<TotpEnrollment>>> {
    selfservice::pending_totp(&app, &a).map(Json)
}

async fn enroll_totp(
    State(app): S,
    o: Origin,
    AnySession(a): AnySession,
) -> ApiResult<Json<TotpEnrollment>> {
    selfservice::enroll_totp(&app, &a, o).await.map(Json)
}

async fn confirm_totp(
    State(app): S,
    o: Origin,
    AnySession(a): AnySession,
    JsonBody(req): JsonBody<CodeSubmission>,
) -> ApiResult<Json<EnrollmentResult>> {
    selfservice::confirm_totp(&app, &a, req, o).await.map(Json)
}

async fn enroll_sms(
    State(app): S,
    o: Origin,
    AnySession(a): AnySession,
    JsonBody(req): JsonBody<PhoneEnrollment>,
) -> ApiResult<Json<PendingDelivery>> {
    selfservice::enroll_sent(&app, &a, Channel::Sms, &req.phone, o).await.map(Json)
}

async fn confirm_sms(
    State(app): S,
    o: Origin,
    AnySession(a): AnySession,
    JsonBody(req): JsonBody<CodeSubmission>,
) -> ApiResult<Json<EnrollmentResult>> {
    selfservice::confirm_sent(&app, &a, Channel::Sms, req, o).await.map(Json)
}

async fn enroll_email(
    State(app): S,
    o: Origin,
    AnySession(a): AnySession,
    JsonBody(req): JsonBody<EmailEnrollment>,
) -> ApiResult<Json<PendingDelivery>> {
    selfservice::enroll_sent(&app, &a, Channel::Email, &req.email, o).await.map(Json)
}

async fn confirm_email(
    State(app): S,
    o: Origin,
    AnySession(a): AnySession,
    JsonBody(req): JsonBody<CodeSubmission>,
) -> ApiResult<Json<EnrollmentResult>> {
    selfservice::confirm_sent(&app, &a, Channel::Email, req, o).await.map(Json)
}

async fn remove_channel(
    State(app): S,
    o: Origin,
    FullSession(a): FullSession,
    Seg(channel): Seg,
) -> ApiResult<Json<TwoStepSettings>> {
    let channel = channel_of(&channel)?;
    selfservice::remove_channel(&app, &a, channel, o).await.map(Json)
}

async fn set_preferred(
    State(app): S,
    o: Origin,
    FullSession(a): FullSession,
    JsonBody(req): JsonBody<PreferredChannel>,
) -> ApiResult<Json<TwoStepSettings>> {
    selfservice::set_preferred(&app, &a, req.channel, o).await.map(Json)
}

async fn regenerate_recovery(
    State(app): S,
    o: Origin,
    FullSession(a): FullSession,
) -> ApiResult<Json<RecoveryCodes>> {
    selfservice::regenerate_recovery(&app, &a, o).await.map(Json)
}

async fn verify(
    State(app): S,
    o: Origin,
    FullSession(a): FullSession,
    JsonBody(req): JsonBody<CodeSubmission>,
) -> ApiResult<Json<VerifyResult>> {
    stepup::verify(&app, &a, req, o).await.map(Json)
}

async fn step_up(
    State(app): S,
    o: Origin,
    FullSession(a): FullSession,
    JsonBody(req): JsonBody<StepUpRequest>,
) -> ApiResult<Json<PendingDelivery>> {
    stepup::send(&app, &a, &req, o).await.map(Json)
}

fn actor(op: String, o: &Origin) -> Actor {
    Actor { operator: op, address: Some(o.addr.to_string()), now: o.now, now_ms: o.now_ms }
}

async fn bootstrap(
    State(app): S,
    o: Origin,
    JsonBody(req): JsonBody<Bootstrap>,
) -> ApiResult<StatusCode> {
    let a = actor(format!("bootstrap:{}", req.username), &o);
    admin::bootstrap(&app, &req.setup_token, &req.username, &req.password, &a)
        .await
        .map(|_| StatusCode::CREATED)
}

async fn operator_sign_in(
    State(app): S,
    o: Origin,
    JsonBody(req): JsonBody<OperatorSignIn>,
) -> ApiResult<Json<OperatorSession>> {
    admin::operator_sign_in(&app, &req, &o).await.map(Json)
}

async fn operator_sign_out(
    State(app): S,
    o: Origin,
    OperatorToken(auth): OperatorToken,
) -> ApiResult<StatusCode> {
    let a = actor(auth.name.clone(), &o);
    operators::sign_out(&app, &auth, &a).await.map(|_| StatusCode::NO_CONTENT)
}

async fn operator_status(
    State(app): S,
    Operator(_): Operator,
    Seg(name): Seg,
) -> ApiResult<Json<OperatorStatus>> {
    operators::status(&app, &name).await.map(Json)
}

async fn operator_unlock(
    State(app): S,
    o: Origin,
    Operator(op): Operator,
    Seg(name): Seg,
) -> ApiResult<Json<OperatorStatus>> {
    operators::unlock(&app, &name, &actor(op, &o)).await.map(Json)
}

async fn operator_revoke_sessions(
    State(app): S,
    o: Origin,
    Operator(op): Operator,
    Seg(name): Seg,
) -> ApiResult<StatusCode> {
    operators::revoke_sessions(&app, &name, &actor(op, &o)).await.map(|_| StatusCode::NO_CONTENT)
}

async fn list_orgs(State(app): S, Operator(_): Operator) -> ApiResult<Json<OrgList>> {
    directory::list_orgs(&app).await.map(Json)
}

async fn policy_preview(
    State(app): S,
    Operator(_): Operator,
    Seg(org): Seg,
    JsonBody(req): JsonBody<PolicyUpdate>,
) -> ApiResult<Json<PolicyPreview>> {
    directory::policy_preview(&app, &org, &req).await.map(Json)
}

async fn list_users(
    State(app): S,
    Operator(_): Operator,
    Query(q): Query<UsersQuery>,
) -> ApiResult<Json<UserList>> {
    let query = directory::UserQuery {
        text: q.q,
        org: q.org,
        after: q.after,
        limit: q.limit.unwrap_or(50),
    };
    directory::list_users(&app, &query).await.map(Json)
}

async fn create_org(
    State(app): S,
    o: Origin,
    Operator(op): Operator,
    JsonBody(req): JsonBody<CreateOrg>,
) -> ApiResult<(StatusCode, Json<OrgView>)> {
    admin::create_org(&app, &req, &actor(op, &o)).await.map(|v| (StatusCode::CREATED, Json(v)))
}

async fn get_org(State(app): S, Operator(_): Operator, Seg(org): Seg) -> ApiResult<Json<OrgView>> {
    admin::get_org(&app, &org).await.map(Json)
}

async fn update_policy(
    State(app): S,
    o: Origin,
    Operator(op): Operator,
    Seg(org): Seg,
    JsonBody(req): JsonBody<PolicyUpdate>,
) -> ApiResult<Json<OrgView>> {
    admin::update_policy(&app, &org, &req, &actor(op, &o)).await.map(Json)
}

async fn create_user(
    State(app): S,
    o: Origin,
    Operator(op): Operator,
    Seg(org): Seg,
    JsonBody(req): JsonBody<CreateUser>,
) -> ApiResult<(StatusCode, Json<AdminUserView>)> {
    admin::create_user(&app, &org, &req, &actor(op, &o))
        .await
        .map(|v| (StatusCode::CREATED, Json(v)))
}

async fn remove_forced(
    State(app): S,
    o: Origin,
    Operator(op): Operator,
    Seg(org): Seg,
) -> ApiResult<Json<RemovedCount>> {
    admin::remove_forced(&app, &org, &actor(op, &o)).await.map(Json)
}

async fn get_user(
    State(app): S,
    Operator(_): Operator,
    Seg(u): Seg,
) -> ApiResult<Json<AdminUserView>> {
    admin::user_view(&app, &u).await.map(Json)
}

async fn reset_two_step(
    State(app): S,
    o: Origin,
    Operator(op): Operator,
    Seg(u): Seg,
) -> ApiResult<Json<AdminUserView>> {
    admin::reset_two_step(&app, &u, &actor(op, &o)).await.map(Json)
}

async fn unlock(
    State(app): S,
    o: Origin,
    Operator(op): Operator,
    Seg(u): Seg,
) -> ApiResult<Json<AdminUserView>> {
    admin::unlock(&app, &u, &actor(op, &o)).await.map(Json)
}

async fn revoke_all_devices(
    State(app): S,
    o: Origin,
    Operator(op): Operator,
    Seg(u): Seg,
) -> ApiResult<Json<AdminUserView>> {
    admin::revoke_devices(&app, &u, None, &actor(op, &o)).await.map(Json)
}

async fn revoke_one_device(
    State(app): S,
    o: Origin,
    Operator(op): Operator,
    Seg2(u, id): Seg2,
) -> ApiResult<Json<AdminUserView>> {
    admin::revoke_devices(&app, &u, Some(&id), &actor(op, &o)).await.map(Json)
}

async fn audit(
    State(app): S,
    Operator(_): Operator,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    let filter = crate::audit::AuditFilter {
        user: q.user.as_deref().map(|u| normalize_username(u).unwrap_or_default()),
        kind: q.kind,
        from_ms: q.from_ms,
        to_ms: q.to_ms,
    };
    Ok(Json(crate::audit::search(&app.repo, q.after, q.limit.unwrap_or(100), &filter).await?))
}
