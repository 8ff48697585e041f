//! Authorisation for guild resources. Anything in a guild the caller is not a member of
//! answers 404, exactly like something that does not exist; a member lacking a permission
//! gets 403.

use madang_domain::{GuildRole, Permissions};
use madang_protocol::Id;
use madang_store::{ChannelRow, MemberRow};

use crate::auth::Session;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The caller's standing in one guild.
pub struct GuildAccess {
    pub member: MemberRow,
    pub permissions: Permissions,
}

impl GuildAccess {
    pub fn role(&self) -> GuildRole {
        self.member.role
    }

    pub fn require(&self, needed: Permissions) -> ApiResult<()> {
        if self.permissions.contains(needed) {
            Ok(())
        } else {
            Err(ApiError::forbidden("you lack the permission for this"))
        }
    }
}

pub async fn guild_access(
    state: &AppState,
    session: &Session,
    guild_id: Id,
) -> ApiResult<GuildAccess> {
    let member = state
        .store
        .member(guild_id.0, session.user_id.0)
        .await?
        .ok_or_else(|| ApiError::not_found("guild"))?;
    let permissions = member.role.permissions();
    Ok(GuildAccess {
        member,
        permissions,
    })
}

/// The channel and the caller's standing in its guild; 404 for both "no such channel" and
/// "not a member".
pub async fn channel_access(
    state: &AppState,
    session: &Session,
    channel_id: Id,
) -> ApiResult<(ChannelRow, GuildAccess)> {
    let not_found = || ApiError::not_found("channel");
    let (channel, member) = state
        .store
        .channel_for_member(channel_id.0, session.user_id.0)
        .await?
        .ok_or_else(not_found)?;
    let member = member.ok_or_else(not_found)?;
    let access = GuildAccess {
        permissions: member.role.permissions(),
        member,
    };
    access
        .require(Permissions::VIEW_CHANNELS)
        .map_err(|_| not_found())?;
    Ok((channel, access))
}
