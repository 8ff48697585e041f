// Messages the user sent that the server has not confirmed yet. Each carries a nonce: the
// server makes a send with the same nonce idempotent, so a retry can never post twice, and it
// echoes the nonce in MESSAGE_CREATE, which settles the optimistic copy whichever arrives first.
import { create } from 'zustand';
import type { Snowflake } from '../api/types';

export interface PendingMessage {
  nonce: string;
  channelId: Snowflake;
  content: string;
  replyTo: Snowflake | null;
  createdAt: string;
  status: 'sending' | 'failed';
}

interface PendingState {
  byChannel: Record<Snowflake, PendingMessage[]>;
  add: (message: PendingMessage) => void;
  setStatus: (channelId: Snowflake, nonce: string, status: PendingMessage['status']) => void;
  settle: (channelId: Snowflake, nonce: string) => void;
}

const noPending: PendingMessage[] = [];

export const usePending = create<PendingState>()((set) => ({
  byChannel: {},
  add: (message) =>
    set((state) => ({
      byChannel: { ...state.byChannel, [message.channelId]: [...(state.byChannel[message.channelId] ?? []), message] },
    })),
  setStatus: (channelId, nonce, status) =>
    set((state) => ({
      byChannel: {
        ...state.byChannel,
        [channelId]: (state.byChannel[channelId] ?? []).map((message) => (message.nonce === nonce ? { ...message, status } : message)),
      },
    })),
  settle: (channelId, nonce) =>
    set((state) => {
      const list = state.byChannel[channelId];
      if (!list?.some((message) => message.nonce === nonce)) return state;
      return { byChannel: { ...state.byChannel, [channelId]: list.filter((message) => message.nonce !== nonce) } };
    }),
}));

export const selectPending = (channelId: Snowflake) => (state: PendingState) => state.byChannel[channelId] ?? noPending;
