//! Routes for system admins of this Madang server.

use axum::extract::State;
use madang_protocol::rest::{CurrentUser, ErrorBody, PageQuery};

use super::{page_limit, views};
use crate::auth::Session;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Query};
use crate::state::AppState;

/// The guard for admin-only routes.
pub fn require_system_admin(session: &Session) -> ApiResult<()> {
    if session.is_system_admin {
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
    require_system_admin(&session)?;
    let limit = page_limit(query.limit)?;
    let users = state
        .store
        .users(query.after.map_or(0, |id| id.0), limit)
        .await?;
    Ok(Json(users.iter().map(views::current_user).collect()))
}
