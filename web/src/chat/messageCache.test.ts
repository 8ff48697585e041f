import { describe, expect, it } from 'vitest';
import type { Message } from '../api/types';
import { chronological, countBefore, findMessage, removeMessage, updateMessage, upsertMessage, type MessagePages } from './messageCache';

const message = (id: string, content = `m${id}`): Message => ({
  id,
  channel_id: 'c',
  guild_id: 'g',
  author: { id: 'u', username: 'u', display_name: null },
  content,
  created_at: '2025-03-04T10:00:00Z',
  edited_at: null,
});

/** Pages newest first, each newest first, as the server sends them. */
const pages = (...ids: string[][]): MessagePages => ({ pages: ids.map((page) => page.map((id) => message(id))), pageParams: ids.map(() => undefined) });
const ids = (data: MessagePages | undefined) => chronological(data).map((m) => m.id);

describe('message cache', () => {
  it('flattens pages into oldest-first order', () => {
    const data = pages(['9', '8'], ['7', '6', '5']);
    expect(ids(data)).toEqual(['5', '6', '7', '8', '9']);
    expect(chronological(undefined)).toEqual([]);
  });

  it('counts the history above the anchor, whatever the page cuts', () => {
    const opened = chronological(pages(['9', '8']));
    expect(countBefore(opened, '8')).toBe(0);
    // Older history loaded above the anchor shifts the origin ...
    expect(countBefore(chronological(pages(['9', '8'], ['7', '6', '5'])), '8')).toBe(3);
    // ... new messages below it do not, even when a refetch cuts the pages differently.
    expect(countBefore(chronological(pages(['11', '10', '9'], ['8', '7', '6'], ['5'])), '8')).toBe(3);
    // A deleted anchor still divides the history at its id.
    expect(countBefore(chronological(pages(['9'], ['7', '6'])), '8')).toBe(2);
    expect(countBefore(opened, null)).toBe(0);
  });

  it('finds a loaded message by id', () => {
    const history = chronological(pages(['12', '10', '9'], ['8', '7', '6'], ['5']));
    expect(findMessage(history, '8')?.content).toBe('m8');
    expect(findMessage(history, '12')?.content).toBe('m12');
    expect(findMessage(history, '5')?.content).toBe('m5');
    expect(findMessage(history, '11')).toBeUndefined();
    expect(findMessage(history, '4')).toBeUndefined();
    expect(findMessage([], '4')).toBeUndefined();
  });

  it('inserts a new message at the newest end, in id order when it committed late', () => {
    expect(ids(upsertMessage(pages(['9', '8']), message('10')))).toEqual(['8', '9', '10']);
    expect(ids(upsertMessage(pages(['9', '7']), message('8')))).toEqual(['7', '8', '9']);
  });

  it('replaces a message it already has instead of duplicating it', () => {
    const data = upsertMessage(pages(['9', '8']), message('9', 'server copy'));
    expect(ids(data)).toEqual(['8', '9']);
    expect(chronological(data)[1]!.content).toBe('server copy');
  });

  it('orders ids numerically, not as text', () => {
    expect(ids(upsertMessage(pages(['99']), message('100')))).toEqual(['99', '100']);
  });

  it('updates and removes messages in whichever page holds them', () => {
    const data = pages(['9', '8'], ['7', '6']);
    expect(chronological(updateMessage(data, message('6', 'edited')))[0]!.content).toBe('edited');
    expect(ids(removeMessage(data, '7'))).toEqual(['6', '8', '9']);
  });

  it('leaves an unloaded channel alone', () => {
    expect(upsertMessage(undefined, message('1'))).toBeUndefined();
    expect(removeMessage(undefined, '1')).toBeUndefined();
  });
});
