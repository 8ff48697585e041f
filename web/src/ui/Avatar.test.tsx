import { describe, expect, it } from 'vitest';
import { inviteRequest } from '../screens/shell/GuildDialogs';
import { guildInitials } from './Avatar';

describe('guildInitials', () => {
  it('takes the first letter of each word, at most three', () => {
    expect(guildInitials('Study Group')).toBe('SG');
    expect(guildInitials('마당 개발')).toBe('마개');
    expect(guildInitials('  rust  ')).toBe('R');
    expect(guildInitials('a b c d e')).toBe('ABC');
    expect(guildInitials('🎮 gamers')).toBe('🎮G');
  });
});

describe('inviteRequest', () => {
  it('sends only the limits that were chosen', () => {
    expect(inviteRequest('never', 0)).toEqual({});
    expect(inviteRequest('d7', 0)).toEqual({ max_age_seconds: 604_800 });
    expect(inviteRequest('m30', 10)).toEqual({ max_age_seconds: 1800, max_uses: 10 });
  });
});
