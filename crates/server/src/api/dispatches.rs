//! The gateway dispatches each REST mutation records in the event log: REST objects (from
//! `views`) wrapped with their dispatch type. The store writes them in the same transaction
//! as the change.

use madang_domain::Permissions;
use madang_protocol::Id;
use madang_protocol::gateway::{
    ChannelDeleted, DispatchType, GatewayGuild, GuildBan, GuildBanRemoved, GuildDeleted,
    GuildMember, GuildMemberRemoved, InviteDeleted, MessageDeleted,
};
use madang_store::{
    BanRow, ChannelRow, Dispatch, GuildRow, InviteRow, MemberJoin, MemberRemoval, MemberRow,
    MessageRow, ReadStateRow, UserRow, VoiceStateRow,
};
use serde::Serialize;

use super::views;

/// Invite events go to members who may see every invite.
pub const INVITE_AUDIENCE: Permissions = Permissions::MANAGE_GUILD;
/// Ban events go to members who may ban.
pub const BAN_AUDIENCE: Permissions = Permissions::BAN_MEMBERS;

pub fn dispatch(event_type: DispatchType, payload: &impl Serialize) -> Dispatch {
    // Serialising our own plain structs to a string cannot fail.
    Dispatch::new(
        event_type.as_str(),
        serde_json::to_string(payload).expect("payloads serialise"),
    )
}

pub fn gateway_guild(
    guild: &GuildRow,
    channels: &[ChannelRow],
    member: &MemberRow,
) -> GatewayGuild {
    GatewayGuild {
        guild: views::guild(guild),
        channels: channels.iter().map(views::channel).collect(),
        role: views::member_role(member.role),
        presences: Vec::new(),
        voice_states: Vec::new(),
    }
}

pub fn member_joined(guild: &GuildRow, channels: &[ChannelRow], member: &MemberRow) -> MemberJoin {
    MemberJoin {
        for_members: member_event(DispatchType::GuildMemberAdd, member),
        for_joiner: dispatch(
            DispatchType::GuildCreate,
            &gateway_guild(guild, channels, member),
        ),
    }
}

pub fn member_removed(member: &MemberRow) -> MemberRemoval {
    MemberRemoval {
        for_members: dispatch(
            DispatchType::GuildMemberRemove,
            &GuildMemberRemoved {
                guild_id: Id(member.guild_id),
                user: views::user(member.user_id, &member.username, &member.display_name),
            },
        ),
        for_removed: guild_deleted(member.guild_id),
    }
}

pub fn member_event(event_type: DispatchType, member: &MemberRow) -> Dispatch {
    dispatch(
        event_type,
        &GuildMember {
            guild_id: Id(member.guild_id),
            member: views::member(member),
        },
    )
}

pub fn member_updated(member: &MemberRow) -> Dispatch {
    member_event(DispatchType::GuildMemberUpdate, member)
}

pub fn guild_updated(guild: &GuildRow) -> Dispatch {
    dispatch(DispatchType::GuildUpdate, &views::guild(guild))
}

pub fn guild_deleted(guild_id: i64) -> Dispatch {
    dispatch(
        DispatchType::GuildDelete,
        &GuildDeleted { id: Id(guild_id) },
    )
}

pub fn channel_event(event_type: DispatchType, channel: &ChannelRow) -> Dispatch {
    dispatch(event_type, &views::channel(channel))
}

pub fn channel_updated(channel: &ChannelRow) -> Dispatch {
    channel_event(DispatchType::ChannelUpdate, channel)
}

pub fn channel_deleted(channel: &ChannelRow) -> Dispatch {
    dispatch(
        DispatchType::ChannelDelete,
        &ChannelDeleted {
            id: Id(channel.id),
            guild_id: Id(channel.guild_id),
        },
    )
}

pub fn ban_added(ban: &BanRow) -> (Dispatch, u64) {
    (
        dispatch(
            DispatchType::GuildBanAdd,
            &GuildBan {
                guild_id: Id(ban.guild_id),
                ban: views::ban(ban),
            },
        ),
        BAN_AUDIENCE.bits(),
    )
}

pub fn ban_removed(guild_id: Id, user_id: Id) -> Dispatch {
    dispatch(
        DispatchType::GuildBanRemove,
        &GuildBanRemoved { guild_id, user_id },
    )
}

pub fn invite_created(invite: &InviteRow) -> Dispatch {
    dispatch(DispatchType::InviteCreate, &views::invite(invite))
}

pub fn invite_deleted(invite: &InviteRow) -> Dispatch {
    dispatch(
        DispatchType::InviteDelete,
        &InviteDeleted {
            code: invite.code.clone(),
            guild_id: Id(invite.guild_id),
        },
    )
}

pub fn message_event(event_type: DispatchType, message: &MessageRow) -> Dispatch {
    dispatch(event_type, &views::message(message))
}

pub fn message_deleted(message: &MessageRow) -> Dispatch {
    dispatch(
        DispatchType::MessageDelete,
        &MessageDeleted {
            id: Id(message.id),
            channel_id: Id(message.channel_id),
            guild_id: Id(message.guild_id),
        },
    )
}

pub fn read_state_updated(state: &ReadStateRow) -> Dispatch {
    dispatch(DispatchType::ReadStateUpdate, &views::read_state(state))
}

pub fn user_updated(user: &UserRow) -> Dispatch {
    dispatch(DispatchType::UserUpdate, &views::current_user(user))
}

/// VOICE_STATE_UPDATE: someone joined a voice channel or changed their flags.
pub fn voice_state_updated(row: &VoiceStateRow) -> Dispatch {
    dispatch(DispatchType::VoiceStateUpdate, &views::voice_state(row))
}

/// VOICE_STATE_UPDATE with `channel_id: null`: someone left the guild's voice channels.
pub fn voice_state_left(row: &VoiceStateRow) -> Dispatch {
    dispatch(
        DispatchType::VoiceStateUpdate,
        &views::voice_state_left(row),
    )
}
