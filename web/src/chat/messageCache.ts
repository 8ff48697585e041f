// The message history of a channel as react-query holds it: pages of at most `pageSize`
// messages, newest page first and each page newest first (the order the server sends).
// These helpers apply one change to that structure without refetching.
import type { InfiniteData } from '@tanstack/react-query';
import type { Message, Snowflake } from '../api/types';
import { compareIds } from './snowflake';

export const pageSize = 50;

export type MessagePages = InfiniteData<Message[]>;

/** Oldest first, the order the list shows. */
export function chronological(data: MessagePages | undefined): Message[] {
  if (!data) return [];
  const all: Message[] = [];
  for (let page = data.pages.length - 1; page >= 0; page -= 1) {
    const messages = data.pages[page]!;
    for (let index = messages.length - 1; index >= 0; index -= 1) all.push(messages[index]!);
  }
  return all;
}

/**
 * How many messages (oldest first) sit before `anchorId`: the list's index origin shifts by this.
 * The anchor is a message that was on screen when the channel opened, so only history loaded
 * above it (or removed above it) moves the origin; new messages below it never do, however the
 * pages happen to be cut after a refetch.
 */
export function countBefore(chronologicalMessages: Message[], anchorId: Snowflake | null): number {
  return anchorId === null ? 0 : firstAtOrAfter(chronologicalMessages, anchorId);
}

/** The loaded message with this id, if any. */
export function findMessage(chronologicalMessages: Message[], id: Snowflake): Message | undefined {
  const candidate = chronologicalMessages[firstAtOrAfter(chronologicalMessages, id)];
  return candidate?.id === id ? candidate : undefined;
}

/**
 * The index of the first message whose id is not below `id` (the length if none): a binary
 * search, because the list view asks on every render and a long read holds thousands.
 */
function firstAtOrAfter(chronologicalMessages: Message[], id: Snowflake): number {
  let low = 0;
  let high = chronologicalMessages.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareIds(chronologicalMessages[middle]!.id, id) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Adds a new message (or replaces the copy we already have, e.g. from our own send). */
export function upsertMessage(data: MessagePages | undefined, message: Message): MessagePages | undefined {
  if (!data) return data;
  if (data.pages.some((page) => page.some((existing) => existing.id === message.id))) return updateMessage(data, message);
  const [newest = [], ...older] = data.pages;
  // Usually the newest of all; a late-committed message still lands in its place.
  const at = newest.findIndex((existing) => compareIds(existing.id, message.id) < 0);
  const page = at === -1 ? [...newest, message] : [...newest.slice(0, at), message, ...newest.slice(at)];
  return { ...data, pages: [page, ...older] };
}

export function updateMessage(data: MessagePages | undefined, message: Message): MessagePages | undefined {
  if (!data) return data;
  return {
    ...data,
    pages: data.pages.map((page) => (page.some((m) => m.id === message.id) ? page.map((m) => (m.id === message.id ? message : m)) : page)),
  };
}

export function removeMessage(data: MessagePages | undefined, messageId: Snowflake): MessagePages | undefined {
  if (!data) return data;
  return {
    ...data,
    pages: data.pages.map((page) => (page.some((m) => m.id === messageId) ? page.filter((m) => m.id !== messageId) : page)),
  };
}
