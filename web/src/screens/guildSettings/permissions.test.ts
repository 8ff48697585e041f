import { describe, expect, it } from 'vitest';
import type { Guild, Member } from '../../api/types';
import { abilities, outranks, roleOf, sortMembers, tabsFor } from './permissions';

const guild: Guild = { id: '1', name: 'G', owner_id: '100', member_count: 3, created_at: '2025-01-01T00:00:00Z' };
const member = (id: string, role: Member['role'], name = `user${id}`): Member => ({
  user: { id, username: name, display_name: null },
  role,
  joined_at: '2025-01-01T00:00:00Z',
});

describe('guild settings permissions', () => {
  it('takes the role from the member list, or the owner id before it loads', () => {
    const members = [member('100', 'owner'), member('200', 'admin'), member('300', 'member')];
    expect(roleOf(guild, members, '200')).toBe('admin');
    expect(roleOf(guild, members, '300')).toBe('member');
    expect(roleOf(guild, undefined, '100')).toBe('owner');
    expect(roleOf(guild, undefined, '200')).toBe('member');
  });

  it('offers each role what the server allows it', () => {
    expect(abilities('member')).toEqual({ manageGuild: false, manageChannels: false, moderate: false, manageAdmins: false, own: false, leave: true });
    expect(abilities('admin')).toEqual({ manageGuild: true, manageChannels: true, moderate: true, manageAdmins: false, own: false, leave: true });
    expect(abilities('owner')).toEqual({ manageGuild: true, manageChannels: true, moderate: true, manageAdmins: true, own: true, leave: false });
    expect(tabsFor('member')).toEqual(['overview', 'invites']);
    expect(tabsFor('admin')).toEqual(['overview', 'channels', 'invites', 'members', 'bans']);
  });

  it('lets only a higher rank kick or ban', () => {
    expect(outranks('owner', 'admin')).toBe(true);
    expect(outranks('admin', 'member')).toBe(true);
    expect(outranks('admin', 'admin')).toBe(false);
    expect(outranks('admin', 'owner')).toBe(false);
    expect(outranks('member', 'member')).toBe(false);
  });

  it('lists the owner, then admins, then members, each by name', () => {
    const sorted = sortMembers([member('3', 'member', 'b'), member('4', 'admin', 'z'), member('5', 'member', 'a'), member('6', 'owner', 'm')]);
    expect(sorted.map((m) => m.user.username)).toEqual(['m', 'z', 'a', 'b']);
  });
});
