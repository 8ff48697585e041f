//! Routes for system admins of this Madang server.

use axum::extract::State;
use madang_protocol::rest::{CurrentUser, ErrorBody, PageQuery};

use super::{page_limit, views};
use crate::auth::Session;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Query};
use crate::state::AppState;

/// The guard for admin-only routes. The role is read here, not remembered with the login
/// (see [`crate::auth::LoginSessions`]), so granting it takes effect at once.
pub async fn require_system_admin(state: &AppState, session: &Session) -> ApiResult<()> {
    let user = state.store.user(session.user_id.0).await?;
    if user.is_some_and(|user| user.system_role == 1) {
        Ok(())
    } else {
        Err(ApiError::forbidden("system admins only"))
    }
}

/// All accounts in id order (system admins).
#[utoipa::path(get, path = "/api/admin/users", tag = "admin", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = Vec<CurrentUser>), (status = "4XX", body = ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<PageQuery>,
) -> ApiResult<Json<Vec<CurrentUser>>> {
    require_system_admin(&state, &session).await?;
    let limit = page_limit(query.limit)?;
    let users = state
        .store
        .users(query.after.map_or(0, |id| id.0), limit)
        .await?;
    Ok(Json(users.iter().map(views::current_user).collect()))
}
