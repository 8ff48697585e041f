// Optimistic sending: the message shows at once as "sending", becomes the server's copy when
// the POST (or its MESSAGE_CREATE) comes back, and turns "failed" with a retry otherwise.
import type { QueryClient } from '@tanstack/react-query';
import { api } from '../api/endpoints';
import type { Message, Snowflake } from '../api/types';
import { upsertMessage, type MessagePages } from './messageCache';
import { usePending, type PendingMessage } from './pending';
import { queryKeys } from './queryKeys';
import { useReadStates } from './readStates';

export function newNonce(): string {
  return crypto.randomUUID();
}

/** Puts a confirmed message in the channel's history and drops its optimistic copy. */
export function settleSent(queryClient: QueryClient, message: Message): void {
  queryClient.setQueryData<MessagePages>(queryKeys.messages(message.channel_id), (data) => upsertMessage(data, message));
  if (message.nonce) usePending.getState().settle(message.channel_id, message.nonce);
  useReadStates.getState().noteMessage(message.channel_id, message.id, true);
}

async function deliver(queryClient: QueryClient, pending: PendingMessage): Promise<void> {
  try {
    const message = await api.sendMessage(pending.channelId, {
      content: pending.content,
      nonce: pending.nonce,
      ...(pending.replyTo ? { reply_to: pending.replyTo } : {}),
    });
    settleSent(queryClient, { ...message, nonce: message.nonce ?? pending.nonce });
  } catch {
    usePending.getState().setStatus(pending.channelId, pending.nonce, 'failed');
  }
}

export function sendMessage(queryClient: QueryClient, channelId: Snowflake, content: string, replyTo: Snowflake | null): Promise<void> {
  const pending: PendingMessage = {
    nonce: newNonce(),
    channelId,
    content,
    replyTo,
    createdAt: new Date().toISOString(),
    status: 'sending',
  };
  usePending.getState().add(pending);
  return deliver(queryClient, pending);
}

/** Sends a failed message again with the same nonce, so the server cannot store it twice. */
export function retrySend(queryClient: QueryClient, pending: PendingMessage): Promise<void> {
  usePending.getState().setStatus(pending.channelId, pending.nonce, 'sending');
  return deliver(queryClient, pending);
}
