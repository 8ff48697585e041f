import { describe, expect, it } from 'vitest';
import type { Channel } from '../api/types';
import { channelTree, firstTextChannel } from './channelTree';

const channel = (id: string, kind: Channel['kind'], position: number, parent_id: string | null = null): Channel => ({
  id,
  guild_id: 'g',
  name: `ch-${id}`,
  kind,
  position,
  parent_id,
  created_at: '2025-01-01T00:00:00Z',
});

describe('channelTree', () => {
  it('lists loose text and voice channels first, then categories with text before voice', () => {
    const tree = channelTree([
      channel('cat2', 'category', 2),
      channel('v1', 'voice', 0),
      channel('t2', 'text', 1),
      channel('t1', 'text', 0),
      channel('cat1', 'category', 1),
      channel('inner-voice', 'voice', 0, 'cat1'),
      channel('inner-text', 'text', 5, 'cat1'),
      channel('orphan', 'text', 3, 'missing-category'),
    ]);
    expect(tree.map((section) => [section.category?.id ?? section.kind, section.channels.map((c) => c.id)])).toEqual([
      ['text', ['t1', 't2', 'orphan']],
      ['voice', ['v1']],
      ['cat1', ['inner-text', 'inner-voice']],
      ['cat2', []],
    ]);
  });

  it('opens the first text channel in sidebar order', () => {
    expect(firstTextChannel([channel('v', 'voice', 0), channel('cat', 'category', 0), channel('t', 'text', 0, 'cat')])?.id).toBe('t');
    expect(firstTextChannel([channel('v', 'voice', 0)])).toBeUndefined();
  });
});
