// Best-effort live state the gateway never replays: who is online and who is typing.
import { create } from 'zustand';
import type { Snowflake } from '../api/types';
import type { PresenceStatus } from '../gateway/protocol';

/** A typing indicator lasts this long unless renewed (clients re-send typing every few seconds). */
export const typingTtlMs = 10_000;

interface LiveState {
  presence: Record<Snowflake, PresenceStatus>;
  /** channel → user → when the indicator expires (ms since epoch) */
  typing: Record<Snowflake, Record<Snowflake, number>>;
  setPresence: (userId: Snowflake, status: PresenceStatus) => void;
  startTyping: (channelId: Snowflake, userId: Snowflake, now: number) => void;
  stopTyping: (channelId: Snowflake, userId: Snowflake) => void;
}

export const useLive = create<LiveState>()((set) => ({
  presence: {},
  typing: {},
  setPresence: (userId, status) => set((state) => ({ presence: { ...state.presence, [userId]: status } })),
  startTyping: (channelId, userId, now) =>
    set((state) => ({ typing: { ...state.typing, [channelId]: { ...state.typing[channelId], [userId]: now + typingTtlMs } } })),
  stopTyping: (channelId, userId) =>
    set((state) => {
      const channel = state.typing[channelId];
      if (!channel || !(userId in channel)) return state;
      const { [userId]: _removed, ...rest } = channel;
      return { typing: { ...state.typing, [channelId]: rest } };
    }),
}));
