//! Store rows to the REST objects clients see.

use madang_domain::GuildRole;
use madang_protocol::gateway::VoiceState;
use madang_protocol::rest::{
    Ban, Channel, ChannelKind, CurrentUser, Guild, Invite, Member, MemberRole, Message, ReadState,
    SystemRole, User,
};
use madang_protocol::{Id, Timestamp};
use madang_store::{
    BanRow, ChannelRow, GuildRow, InviteRow, MemberRow, MessageRow, ReadStateRow, UserRow,
    VoiceStateRow,
};

pub fn current_user(row: &UserRow) -> CurrentUser {
    CurrentUser {
        id: Id(row.id),
        username: row.username.clone(),
        display_name: row.display_name.clone(),
        email: row.email.clone(),
        system_role: if row.system_role == 1 {
            SystemRole::Admin
        } else {
            SystemRole::User
        },
        created_at: Timestamp(row.created_at),
    }
}

pub fn user(id: i64, username: &str, display_name: &Option<String>) -> User {
    User {
        id: Id(id),
        username: username.to_owned(),
        display_name: display_name.clone(),
    }
}

pub fn guild(row: &GuildRow) -> Guild {
    Guild {
        id: Id(row.id),
        name: row.name.clone(),
        owner_id: Id(row.owner_id),
        member_count: row.member_count,
        created_at: Timestamp(row.created_at),
    }
}

pub fn channel_kind(kind: madang_store::ChannelKind) -> ChannelKind {
    match kind {
        madang_store::ChannelKind::Text => ChannelKind::Text,
        madang_store::ChannelKind::Voice => ChannelKind::Voice,
        madang_store::ChannelKind::Category => ChannelKind::Category,
    }
}

pub fn store_channel_kind(kind: ChannelKind) -> madang_store::ChannelKind {
    match kind {
        ChannelKind::Text => madang_store::ChannelKind::Text,
        ChannelKind::Voice => madang_store::ChannelKind::Voice,
        ChannelKind::Category => madang_store::ChannelKind::Category,
    }
}

pub fn channel(row: &ChannelRow) -> Channel {
    Channel {
        id: Id(row.id),
        guild_id: Id(row.guild_id),
        kind: channel_kind(row.kind),
        name: row.name.clone(),
        topic: row.topic.clone(),
        parent_id: row.parent_id.map(Id),
        position: row.position,
        user_limit: row.user_limit,
        created_at: Timestamp(row.created_at),
    }
}

pub fn member_role(role: GuildRole) -> MemberRole {
    match role {
        GuildRole::Member => MemberRole::Member,
        GuildRole::Admin => MemberRole::Admin,
        GuildRole::Owner => MemberRole::Owner,
    }
}

pub fn member(row: &MemberRow) -> Member {
    Member {
        user: user(row.user_id, &row.username, &row.display_name),
        role: member_role(row.role),
        joined_at: Timestamp(row.joined_at),
    }
}

pub fn ban(row: &BanRow) -> Ban {
    Ban {
        user: user(row.user_id, &row.username, &row.display_name),
        reason: row.reason.clone(),
        created_at: Timestamp(row.created_at),
    }
}

pub fn invite(row: &InviteRow) -> Invite {
    Invite {
        code: row.code.clone(),
        guild_id: Id(row.guild_id),
        inviter_id: Id(row.creator_id),
        max_uses: row.max_uses,
        uses: row.uses,
        expires_at: row.expires_at.map(Timestamp),
        created_at: Timestamp(row.created_at),
    }
}

pub fn message(row: &MessageRow) -> Message {
    Message {
        id: Id(row.id),
        channel_id: Id(row.channel_id),
        guild_id: Id(row.guild_id),
        author: user(
            row.author_id,
            &row.author_username,
            &row.author_display_name,
        ),
        content: row.content.clone(),
        nonce: row.nonce.clone(),
        reply_to: row.reply_to.map(Id),
        created_at: Timestamp(Id(row.id).timestamp_ms()),
        edited_at: row.edited_at.map(Timestamp),
    }
}

pub fn read_state(row: &ReadStateRow) -> ReadState {
    ReadState {
        channel_id: Id(row.channel_id),
        last_read_message_id: Id(row.last_read_message_id),
        unread_count: row.unread_count,
    }
}

/// Someone in a voice channel, with their flags.
pub fn voice_state(row: &VoiceStateRow) -> VoiceState {
    VoiceState {
        guild_id: Id(row.guild_id),
        channel_id: Some(Id(row.channel_id)),
        user_id: Id(row.user_id),
        self_mute: row.flags.self_mute,
        self_deaf: row.flags.self_deaf,
        self_video: row.flags.self_video,
        self_stream: row.flags.self_stream,
        server_mute: row.server_mute,
        speaking: false,
    }
}

/// Someone who left the guild's voice channels: no channel, every flag cleared.
pub fn voice_state_left(row: &VoiceStateRow) -> VoiceState {
    VoiceState {
        guild_id: Id(row.guild_id),
        channel_id: None,
        user_id: Id(row.user_id),
        self_mute: false,
        self_deaf: false,
        self_video: false,
        self_stream: false,
        server_mute: false,
        speaking: false,
    }
}
