import { describe, expect, it } from 'vitest';
import { groupWindowMs, rowLayout } from './grouping';

const at = (iso: string, authorId = 'a', isReply = false) => ({ authorId, createdAt: iso, isReply });

describe('rowLayout', () => {
  it('starts the first row with a day separator and a full header', () => {
    expect(rowLayout(undefined, at('2025-03-04T10:00:00'))).toEqual({ newDay: true, grouped: false });
  });

  it('groups consecutive messages of one author within the window', () => {
    const first = at('2025-03-04T10:00:00');
    const soon = at(new Date(new Date(first.createdAt).getTime() + groupWindowMs - 1000).toISOString());
    expect(rowLayout(first, soon)).toEqual({ newDay: false, grouped: true });
  });

  it('starts a new group after the window, for another author, or for a reply', () => {
    const first = at('2025-03-04T10:00:00');
    const late = at(new Date(new Date(first.createdAt).getTime() + groupWindowMs).toISOString());
    expect(rowLayout(first, late).grouped).toBe(false);
    expect(rowLayout(first, at('2025-03-04T10:00:30', 'b')).grouped).toBe(false);
    expect(rowLayout(first, at('2025-03-04T10:00:30', 'a', true)).grouped).toBe(false);
  });

  it('separates local calendar days and never groups across them', () => {
    expect(rowLayout(at('2025-03-04T23:59:00'), at('2025-03-05T00:01:00'))).toEqual({ newDay: true, grouped: false });
  });
});
