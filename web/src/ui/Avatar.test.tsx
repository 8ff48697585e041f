import { describe, expect, it } from 'vitest';
import { inviteRequest } from '../screens/shell/GuildDialogs';
import { colourFor, guildInitials } from './Avatar';

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

describe('avatar colours', () => {
  /** WCAG contrast of white on an `hsl(h s% l%)` colour. */
  function contrastWithWhite(hsl: string): number {
    const [h, s, l] = hsl.match(/[\d.]+/g)!.map(Number) as [number, number, number];
    const a = (s / 100) * Math.min(l / 100, 1 - l / 100);
    const channel = (n: number) => {
      const k = (n + h / 30) % 12;
      const value = l / 100 - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
      return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
    };
    const luminance = 0.2126 * channel(0) + 0.7152 * channel(8) + 0.0722 * channel(4);
    return 1.05 / (luminance + 0.05);
  }

  it('keep white initials readable (WCAG AA, 4.5:1) whatever the id', () => {
    const seen = new Set<string>();
    for (let id = 0; id < 200; id += 1) seen.add(colourFor(String(81064953856000000 + id * 4099)));
    expect(seen.size).toBeGreaterThan(4);
    for (const colour of seen) expect(contrastWithWhite(colour), colour).toBeGreaterThanOrEqual(4.5);
  });
});
