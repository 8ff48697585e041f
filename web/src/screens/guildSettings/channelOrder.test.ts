import { describe, expect, it } from 'vitest';
import type { Channel } from '../../api/types';
import { applyPlacements, dropPlacements, endPosition, moveChannel, siblingsOf } from './channelOrder';

const channel = (id: string, kind: Channel['kind'], position: number, parent_id: string | null = null): Channel => ({
  id,
  guild_id: '1',
  kind,
  name: `c${id}`,
  position,
  parent_id,
  topic: null,
  created_at: '2025-01-01T00:00:00Z',
});

const channels = [
  channel('10', 'text', 0),
  channel('11', 'text', 1),
  channel('12', 'voice', 2),
  channel('20', 'category', 3),
  channel('21', 'text', 4, '20'),
  channel('22', 'text', 5, '20'),
  channel('23', 'voice', 6, '20'),
  channel('30', 'category', 7),
];

describe('channel reordering', () => {
  it('orders a channel among the channels of its kind in its category', () => {
    expect(siblingsOf(channels, channels[0]!).map((c) => c.id)).toEqual(['10', '11']);
    expect(siblingsOf(channels, channels[4]!).map((c) => c.id)).toEqual(['21', '22']);
    expect(siblingsOf(channels, channels[6]!).map((c) => c.id)).toEqual(['23']);
    expect(siblingsOf(channels, channels[3]!).map((c) => c.id)).toEqual(['20', '30']);
  });

  it('swaps with the neighbour and renumbers the siblings, repeating their category', () => {
    expect(moveChannel(channels, '22', -1)).toEqual([
      { id: '22', position: 0, parent_id: '20' },
      { id: '21', position: 1, parent_id: '20' },
    ]);
    expect(moveChannel(channels, '10', 1)).toEqual([
      { id: '11', position: 0, parent_id: null },
      { id: '10', position: 1, parent_id: null },
    ]);
    expect(moveChannel(channels, '30', -1)).toEqual([
      { id: '30', position: 0, parent_id: null },
      { id: '20', position: 1, parent_id: null },
    ]);
  });

  it('does nothing at either end', () => {
    expect(moveChannel(channels, '10', -1)).toBeNull();
    expect(moveChannel(channels, '23', 1)).toBeNull();
    expect(moveChannel(channels, 'missing', 1)).toBeNull();
  });

  it('treats a channel whose category is gone as uncategorised', () => {
    const orphaned = [...channels, channel('40', 'text', 9, '99')];
    expect(moveChannel(orphaned, '40', -1)?.at(-1)).toEqual({ id: '11', position: 2, parent_id: null });
  });

  it('places new channels last among their siblings', () => {
    expect(endPosition(channels, 'text', '20')).toBe(6);
    expect(endPosition(channels, 'category', null)).toBe(8);
    expect(endPosition(channels, 'voice', '30')).toBe(0);
    expect(endPosition(channels, 'text', null, '11')).toBe(1);
  });

  it('applies placements to the cached list', () => {
    const moved = applyPlacements(channels, [{ id: '10', position: 5, parent_id: '30' }]);
    expect(moved.find((c) => c.id === '10')).toMatchObject({ position: 5, parent_id: '30' });
    expect(moved).toHaveLength(channels.length);
  });

  it('drops a channel before or after another of its kind, renumbering its new siblings', () => {
    expect(dropPlacements(channels, '11', '10', 'before')).toEqual([
      { id: '11', position: 0, parent_id: null },
      { id: '10', position: 1, parent_id: null },
    ]);
    expect(dropPlacements(channels, '21', '22', 'after')).toEqual([
      { id: '22', position: 0, parent_id: '20' },
      { id: '21', position: 1, parent_id: '20' },
    ]);
  });

  it('moves a dragged channel into the category of the channel it is dropped on', () => {
    expect(dropPlacements(channels, '10', '21', 'after')).toEqual([
      { id: '21', position: 0, parent_id: '20' },
      { id: '10', position: 1, parent_id: '20' },
      { id: '22', position: 2, parent_id: '20' },
    ]);
    expect(dropPlacements(channels, '23', '12', 'before')).toEqual([
      { id: '23', position: 0, parent_id: null },
      { id: '12', position: 1, parent_id: null },
    ]);
  });

  it('puts a channel dropped on a category last inside it', () => {
    expect(dropPlacements(channels, '10', '30', 'inside')).toEqual([{ id: '10', position: 0, parent_id: '30' }]);
    expect(dropPlacements(channels, '12', '20', 'inside')).toEqual([
      { id: '23', position: 0, parent_id: '20' },
      { id: '12', position: 1, parent_id: '20' },
    ]);
  });

  it('reorders categories only among categories', () => {
    expect(dropPlacements(channels, '20', '30', 'after')).toEqual([
      { id: '30', position: 0, parent_id: null },
      { id: '20', position: 1, parent_id: null },
    ]);
    expect(dropPlacements(channels, '20', '21', 'before')).toBeNull();
    expect(dropPlacements(channels, '10', '20', 'before')).toBeNull();
  });

  it('refuses drops that change nothing or mix text and voice', () => {
    expect(dropPlacements(channels, '10', '11', 'before')).toBeNull();
    expect(dropPlacements(channels, '11', '10', 'after')).toBeNull();
    expect(dropPlacements(channels, '10', '10', 'before')).toBeNull();
    expect(dropPlacements(channels, '10', '12', 'before')).toBeNull();
    expect(dropPlacements(channels, '22', '20', 'inside')).toBeNull();
  });
});
