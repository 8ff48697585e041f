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

/** How many messages sit in pages older than the first one: the list's index origin shifts by this. */
export function olderCount(data: MessagePages | undefined): number {
  if (!data) return 0;
  return data.pages.slice(1).reduce((sum, page) => sum + page.length, 0);
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
