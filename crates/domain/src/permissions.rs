//! Guild permissions as bits. Today a member's permissions follow from their role (owner,
//! admin, member); custom roles and per-channel overrides will fold more bit sets into
//! [`Permissions`] without changing any caller, because callers only ask "has this bit?".

use std::ops::{BitOr, BitOrAssign};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Permissions(u64);

impl Permissions {
    pub const NONE: Permissions = Permissions(0);
    /// See the guild, its channels and their messages.
    pub const VIEW_CHANNELS: Permissions = Permissions(1 << 0);
    pub const SEND_MESSAGES: Permissions = Permissions(1 << 1);
    pub const CREATE_INVITES: Permissions = Permissions(1 << 2);
    /// Delete other people's messages.
    pub const MANAGE_MESSAGES: Permissions = Permissions(1 << 3);
    /// Create, edit, reorder and delete channels.
    pub const MANAGE_CHANNELS: Permissions = Permissions(1 << 4);
    /// Rename the guild, see and revoke everyone's invites.
    pub const MANAGE_GUILD: Permissions = Permissions(1 << 5);
    pub const KICK_MEMBERS: Permissions = Permissions(1 << 6);
    pub const BAN_MEMBERS: Permissions = Permissions(1 << 7);
    /// Make and unmake admins.
    pub const MANAGE_ADMINS: Permissions = Permissions(1 << 8);
    /// Transfer ownership and delete the guild.
    pub const OWN_GUILD: Permissions = Permissions(1 << 9);
    /// Server-mute people in voice channels and disconnect them from voice.
    pub const MODERATE_VOICE: Permissions = Permissions(1 << 10);

    pub const fn from_bits(bits: u64) -> Permissions {
        Permissions(bits)
    }

    pub const fn bits(self) -> u64 {
        self.0
    }

    pub const fn contains(self, other: Permissions) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for Permissions {
    type Output = Permissions;
    fn bitor(self, rhs: Self) -> Self {
        Permissions(self.0 | rhs.0)
    }
}

impl BitOrAssign for Permissions {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

/// A member's role in a guild. Stored as a small integer; the order is the hierarchy.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum GuildRole {
    Member = 0,
    Admin = 1,
    Owner = 2,
}

impl GuildRole {
    pub fn from_i16(value: i16) -> Option<GuildRole> {
        match value {
            0 => Some(GuildRole::Member),
            1 => Some(GuildRole::Admin),
            2 => Some(GuildRole::Owner),
            _ => None,
        }
    }

    pub fn as_i16(self) -> i16 {
        self as i16
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GuildRole::Member => "member",
            GuildRole::Admin => "admin",
            GuildRole::Owner => "owner",
        }
    }

    pub fn permissions(self) -> Permissions {
        let member =
            Permissions::VIEW_CHANNELS | Permissions::SEND_MESSAGES | Permissions::CREATE_INVITES;
        let admin = member
            | Permissions::MANAGE_MESSAGES
            | Permissions::MANAGE_CHANNELS
            | Permissions::MANAGE_GUILD
            | Permissions::KICK_MEMBERS
            | Permissions::BAN_MEMBERS
            | Permissions::MODERATE_VOICE;
        match self {
            GuildRole::Member => member,
            GuildRole::Admin => admin,
            GuildRole::Owner => admin | Permissions::MANAGE_ADMINS | Permissions::OWN_GUILD,
        }
    }

    /// Whether a member with this role may kick, ban or moderate in voice a member with
    /// `target`'s role: only
    /// someone strictly higher in the hierarchy, so admins cannot remove each other and
    /// nobody can remove the owner.
    pub fn outranks(self, target: GuildRole) -> bool {
        self > target
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_holds_what_it_should() {
        let member = GuildRole::Member.permissions();
        assert!(member.contains(Permissions::VIEW_CHANNELS | Permissions::SEND_MESSAGES));
        assert!(!member.contains(Permissions::MANAGE_CHANNELS));
        assert!(!member.contains(Permissions::KICK_MEMBERS));
        assert!(!member.contains(Permissions::MODERATE_VOICE));

        let admin = GuildRole::Admin.permissions();
        assert!(admin.contains(member));
        assert!(admin.contains(
            Permissions::MANAGE_CHANNELS | Permissions::BAN_MEMBERS | Permissions::MANAGE_MESSAGES
        ));
        assert!(admin.contains(Permissions::MODERATE_VOICE));
        assert!(!admin.contains(Permissions::MANAGE_ADMINS));
        assert!(!admin.contains(Permissions::OWN_GUILD));

        let owner = GuildRole::Owner.permissions();
        assert!(owner.contains(admin | Permissions::MANAGE_ADMINS | Permissions::OWN_GUILD));
    }

    #[test]
    fn hierarchy_decides_who_may_remove_whom() {
        assert!(GuildRole::Owner.outranks(GuildRole::Admin));
        assert!(GuildRole::Admin.outranks(GuildRole::Member));
        assert!(!GuildRole::Admin.outranks(GuildRole::Admin));
        assert!(!GuildRole::Admin.outranks(GuildRole::Owner));
        assert!(!GuildRole::Member.outranks(GuildRole::Member));
    }

    #[test]
    fn roles_round_trip_through_storage() {
        for role in [GuildRole::Member, GuildRole::Admin, GuildRole::Owner] {
            assert_eq!(GuildRole::from_i16(role.as_i16()), Some(role));
        }
        assert_eq!(GuildRole::from_i16(7), None);
    }
}
