// How far the user has read each channel, for unread dots. Seeded by GET
// /api/users/@me/read-states (and by READY once the gateway carries them), kept in step by
// READ_STATE_UPDATE (other sessions of the same user), by the answers to our own acks, and by
// messages arriving live.
import { create } from 'zustand';
import type { ReadState, Snowflake } from '../api/types';
import { isNewer } from './snowflake';

export interface ChannelReadState {
  lastReadId: Snowflake | null;
  /** Newest message we know of in the channel. */
  lastMessageId: Snowflake | null;
  unreadCount: number;
}

interface ReadStatesState {
  byChannel: Record<Snowflake, ChannelReadState>;
  /** False until the first full set arrived: before that, "no entry" means "not known yet". */
  loaded: boolean;
  replaceAll: (states: ReadState[]) => void;
  apply: (state: ReadState) => void;
  /** A message appeared in a channel; `read` when the user is looking at it or wrote it. */
  noteMessage: (channelId: Snowflake, messageId: Snowflake, read: boolean) => void;
}

const empty: ChannelReadState = { lastReadId: null, lastMessageId: null, unreadCount: 0 };

export const useReadStates = create<ReadStatesState>()((set) => ({
  byChannel: {},
  loaded: false,
  replaceAll: (states) =>
    set((current) => ({
      loaded: true,
      byChannel: Object.fromEntries(
        states.map((state) => {
          // Keep what we know of the newest message, unless the server has read past it.
          const known = current.byChannel[state.channel_id]?.lastMessageId ?? null;
          const lastMessageId = isNewer(known, state.last_read_message_id) ? known : null;
          return [state.channel_id, { lastReadId: state.last_read_message_id, lastMessageId, unreadCount: state.unread_count }];
        }),
      ),
    })),
  apply: (state) =>
    set((current) => {
      const previous = current.byChannel[state.channel_id] ?? empty;
      return {
        byChannel: {
          ...current.byChannel,
          [state.channel_id]: { ...previous, lastReadId: state.last_read_message_id, unreadCount: state.unread_count },
        },
      };
    }),
  noteMessage: (channelId, messageId, read) =>
    set((current) => {
      const previous = current.byChannel[channelId] ?? empty;
      if (!isNewer(messageId, previous.lastMessageId)) return current;
      const next: ChannelReadState = read
        ? { lastMessageId: messageId, lastReadId: messageId, unreadCount: 0 }
        : { ...previous, lastMessageId: messageId, unreadCount: previous.unreadCount + 1 };
      return { byChannel: { ...current.byChannel, [channelId]: next } };
    }),
}));

export function unreadCount(state: ChannelReadState | undefined): number {
  if (!state) return 0;
  if (state.unreadCount > 0) return state.unreadCount;
  return isNewer(state.lastMessageId, state.lastReadId) ? 1 : 0;
}
