// What the signed-in member may do in a guild's settings, mirroring the server's rules (owner >
// admin > member; see the server's `permissions.rs`). The server decides in the end; this only
// keeps the settings from offering what would be refused.
import type { Guild, Member, MemberRole, Snowflake } from '../../api/types';

const rank: Record<MemberRole, number> = { member: 0, admin: 1, owner: 2 };

/** The caller's role, from the member list (the guild's owner id until the list has loaded). */
export function roleOf(guild: Guild, members: Member[] | undefined, userId: Snowflake | undefined): MemberRole {
  const own = members?.find((member) => member.user.id === userId)?.role;
  if (own) return own;
  return guild.owner_id === userId ? 'owner' : 'member';
}

export interface GuildAbilities {
  /** Rename the guild, see and revoke everyone's invites. */
  manageGuild: boolean;
  /** Create, rename, reorder and delete channels and categories. */
  manageChannels: boolean;
  /** Kick and ban members ranked below you, see and lift bans. */
  moderate: boolean;
  /** Make and unmake admins. */
  manageAdmins: boolean;
  /** Transfer ownership, delete the guild. */
  own: boolean;
  /** Everyone but the owner may leave. */
  leave: boolean;
}

export function abilities(role: MemberRole): GuildAbilities {
  const admin = rank[role] >= rank.admin;
  const owner = role === 'owner';
  return { manageGuild: admin, manageChannels: admin, moderate: admin, manageAdmins: owner, own: owner, leave: !owner };
}

/** Whether `actor` may kick or ban `target`: only someone strictly higher in the hierarchy. */
export function outranks(actor: MemberRole, target: MemberRole): boolean {
  return rank[actor] > rank[target];
}

export type SettingsTab = 'overview' | 'channels' | 'invites' | 'members' | 'bans';

/** The tabs a role sees, in order. Plain members see the overview (to leave) and their own invites. */
export function tabsFor(role: MemberRole): SettingsTab[] {
  const can = abilities(role);
  return [
    'overview',
    ...(can.manageChannels ? (['channels'] as const) : []),
    'invites',
    ...(can.moderate ? (['members', 'bans'] as const) : []),
  ];
}

/** Members ordered owner, admins, members, then by name. */
export function sortMembers(members: Member[]): Member[] {
  const name = (member: Member) => member.user.display_name || member.user.username;
  return [...members].sort((a, b) => rank[b.role] - rank[a.role] || name(a).localeCompare(name(b)));
}
