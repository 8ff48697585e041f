//! Registering, signing in and out, refreshing tokens, and the signed-in user's own data.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use madang_domain::validate::{DisplayName, Email, Password, Username};
use madang_protocol::Id;
use madang_protocol::rest::{
    AuthResponse, CurrentUser, ErrorBody, ErrorCode, Guild, LoginRequest, ReadState,
    RegisterRequest, UpdateCurrentUser,
};
use madang_store::{NewUser, RefreshOutcome, UserRow};

use super::{dispatches, views};
use crate::auth::{
    RefreshToken, Session, client_ip, refresh_cookie, refresh_token_from_cookies, removal_cookie,
    require_same_origin,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::gateway::SessionRevocation;
use crate::state::{AppState, now_ms};

/// Starts a login session for `user`: a refresh token in its cookie, an access token in the
/// body.
async fn sign_in(state: &AppState, user: &UserRow, status: StatusCode) -> ApiResult<Response> {
    let now = now_ms();
    let session_id = state.next_id();
    let refresh = RefreshToken::generate();
    let refresh_ttl = state.config.refresh_token_ttl_days * 86_400;
    state
        .store
        .create_login_session(
            session_id.0,
            user.id,
            &refresh.hash,
            now + refresh_ttl * 1000,
            now,
        )
        .await?;
    Ok(authenticated(
        state,
        user,
        session_id,
        &refresh.secret,
        status,
    ))
}

fn authenticated(
    state: &AppState,
    user: &UserRow,
    session_id: Id,
    refresh_secret: &str,
    status: StatusCode,
) -> Response {
    let body = AuthResponse {
        user: views::current_user(user),
        access_token: state.tokens.issue(Id(user.id), session_id, now_ms()),
        expires_in: state.tokens.ttl_seconds(),
    };
    let cookie = refresh_cookie(
        refresh_secret,
        state.config.refresh_token_ttl_days * 86_400,
        state.config.served_over_https(),
    );
    (status, [(SET_COOKIE, cookie)], Json(body)).into_response()
}

fn peer_ip(
    state: &AppState,
    headers: &HeaderMap,
    peer: &ConnectInfo<SocketAddr>,
) -> std::net::IpAddr {
    client_ip(headers, Some(peer), state.config.trust_forwarded_for)
}

/// Create an account and sign in.
#[utoipa::path(post, path = "/api/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, body = AuthResponse, description = "Signed in; the refresh cookie is set."),
              (status = "4XX", body = ErrorBody, description = "Invalid input (422), taken username or e-mail (409), rate limited (429).")))]
pub async fn register(
    State(state): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(request): Json<RegisterRequest>,
) -> ApiResult<Response> {
    state.limits.auth(peer_ip(&state, &headers, &peer))?;
    let email = Email::parse(&request.email)?;
    let username = Username::parse(&request.username)?;
    let password = Password::parse(&request.password)?;
    let display_name = request
        .display_name
        .as_deref()
        .map(DisplayName::parse)
        .transpose()?;
    let password_hash = state.passwords.hash(password.as_str()).await?;
    let user = state
        .store
        .create_user(NewUser {
            id: state.next_id().0,
            username: username.as_str(),
            email: email.as_str(),
            display_name: display_name.as_ref().map(DisplayName::as_str),
            password_hash: &password_hash,
            created_at: now_ms(),
        })
        .await?;
    sign_in(&state, &user, StatusCode::CREATED).await
}

/// Sign in with e-mail or username and password.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = AuthResponse, description = "Signed in; the refresh cookie is set."),
              (status = "4XX", body = ErrorBody, description = "Wrong credentials (401), rate limited (429).")))]
pub async fn login(
    State(state): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(request): Json<LoginRequest>,
) -> ApiResult<Response> {
    state.limits.auth(peer_ip(&state, &headers, &peer))?;
    let login = request.login.trim();
    // No account name holds U+0000, and PostgreSQL could not even compare one.
    let user = if login.contains('\0') {
        None
    } else if login.contains('@') {
        state.store.user_by_email(&login.to_lowercase()).await?
    } else {
        state.store.user_by_username(login).await?
    };
    let verified = state
        .passwords
        .verify(
            &request.password,
            user.as_ref().map(|u| u.password_hash.as_str()),
        )
        .await;
    match user {
        Some(user) if verified => sign_in(&state, &user, StatusCode::OK).await,
        _ => Err(ApiError::new(
            ErrorCode::InvalidCredentials,
            "wrong login or password",
        )),
    }
}

/// Exchange the refresh cookie for a new access token and a new refresh cookie. A refresh
/// token works once: presenting a spent one signs that login out everywhere.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth",
    responses((status = 200, body = AuthResponse, description = "Rotated; the new refresh cookie is set."),
              (status = "4XX", body = ErrorBody, description = "No valid refresh cookie (401), another site's page (403), rate limited (429).")))]
pub async fn refresh(
    State(state): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    require_same_origin(&headers, state.public_origin.as_deref())?;
    state.limits.refresh(peer_ip(&state, &headers, &peer))?;
    let secure = state.config.served_over_https();
    // A refused refresh also clears the cookie, so the browser stops presenting it.
    let refused = || {
        (
            [(SET_COOKIE, removal_cookie(secure))],
            ApiError::unauthorized(),
        )
            .into_response()
    };
    let Some(presented) = refresh_token_from_cookies(&headers) else {
        return Ok(refused());
    };
    let next = RefreshToken::generate();
    let now = now_ms();
    let expires_at = now + state.config.refresh_token_ttl_days * 86_400 * 1000;
    match state
        .store
        .rotate_refresh_token(
            &RefreshToken::hash_of(&presented),
            &next.hash,
            expires_at,
            now,
        )
        .await?
    {
        RefreshOutcome::Rotated {
            user_id,
            session_id,
        } => {
            let user = state
                .store
                .user(user_id)
                .await?
                .ok_or_else(ApiError::unauthorized)?;
            Ok(authenticated(
                &state,
                &user,
                Id(session_id),
                &next.secret,
                StatusCode::OK,
            ))
        }
        RefreshOutcome::Reused {
            user_id,
            session_id,
        } => {
            tracing::warn!(
                user_id,
                session_id,
                "refresh token reused: login session revoked"
            );
            // The thief may hold an access token of any of the user's logins.
            state.gateway.revoke(SessionRevocation::User {
                user_id,
                except_login: None,
            });
            Ok(refused())
        }
        RefreshOutcome::Invalid => Ok(refused()),
    }
}

/// End this login: its refresh token and access tokens stop working at once.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Signed out; the refresh cookie is cleared."),
              (status = "4XX", body = ErrorBody, description = "Not signed in (401), another site's page (403).")))]
pub async fn logout(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
) -> ApiResult<Response> {
    require_same_origin(&headers, state.public_origin.as_deref())?;
    state
        .store
        .revoke_login_session(session.session_id.0, now_ms())
        .await?;
    state.gateway.revoke(SessionRevocation::Login {
        user_id: session.user_id.0,
        login_session_id: session.session_id.0,
    });
    Ok((
        StatusCode::NO_CONTENT,
        [(SET_COOKIE, removal_cookie(state.config.served_over_https()))],
    )
        .into_response())
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/users/@me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = CurrentUser), (status = "4XX", body = ErrorBody)))]
pub async fn get_me(
    State(state): State<AppState>,
    session: Session,
) -> ApiResult<Json<CurrentUser>> {
    let user = state
        .store
        .user(session.user_id.0)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    Ok(Json(views::current_user(&user)))
}

/// Change your username, display name or password. A new password signs out every other
/// login.
#[utoipa::path(patch, path = "/api/users/@me", tag = "users", security(("bearer" = [])), request_body = UpdateCurrentUser,
    responses((status = 200, body = CurrentUser), (status = "4XX", body = ErrorBody)))]
pub async fn update_me(
    State(state): State<AppState>,
    session: Session,
    Json(request): Json<UpdateCurrentUser>,
) -> ApiResult<Json<CurrentUser>> {
    let username = request
        .username
        .as_deref()
        .map(Username::parse)
        .transpose()?;
    let display_name = match &request.display_name {
        Some(Some(name)) => Some(Some(DisplayName::parse(name)?)),
        Some(None) => Some(None),
        None => None,
    };
    let new_password_hash = match &request.new_password {
        None => None,
        Some(new_password) => {
            let new_password = Password::parse(new_password)?;
            let current = request.current_password.as_deref().ok_or_else(|| {
                ApiError::validation("current_password: required to set a new password")
            })?;
            let user = state
                .store
                .user(session.user_id.0)
                .await?
                .ok_or_else(ApiError::unauthorized)?;
            if !state
                .passwords
                .verify(current, Some(&user.password_hash))
                .await
            {
                return Err(ApiError::new(
                    ErrorCode::InvalidCredentials,
                    "the current password is wrong",
                ));
            }
            Some(state.passwords.hash(new_password.as_str()).await?)
        }
    };
    let user = state
        .store
        .update_user(
            session.user_id.0,
            username.as_ref().map(Username::as_str),
            display_name
                .as_ref()
                .map(|name| name.as_ref().map(DisplayName::as_str)),
            new_password_hash.as_deref(),
            now_ms(),
            dispatches::user_updated,
            dispatches::member_updated,
        )
        .await?;
    if new_password_hash.is_some() {
        state
            .store
            .revoke_other_login_sessions(session.user_id.0, session.session_id.0, now_ms())
            .await?;
        state.gateway.revoke(SessionRevocation::User {
            user_id: session.user_id.0,
            except_login: Some(session.session_id.0),
        });
    }
    Ok(Json(views::current_user(&user)))
}

/// The guilds you are a member of.
#[utoipa::path(get, path = "/api/users/@me/guilds", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = Vec<Guild>), (status = "4XX", body = ErrorBody)))]
pub async fn my_guilds(
    State(state): State<AppState>,
    session: Session,
) -> ApiResult<Json<Vec<Guild>>> {
    let guilds = state.store.guilds_of_user(session.user_id.0).await?;
    Ok(Json(guilds.iter().map(views::guild).collect()))
}

/// How far you have read each text channel, with unread counts.
#[utoipa::path(get, path = "/api/users/@me/read-states", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = Vec<ReadState>), (status = "4XX", body = ErrorBody)))]
pub async fn my_read_states(
    State(state): State<AppState>,
    session: Session,
) -> ApiResult<Json<Vec<ReadState>>> {
    let states = state.store.read_states_of_user(session.user_id.0).await?;
    Ok(Json(states.iter().map(views::read_state).collect()))
}
