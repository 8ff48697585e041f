// The open channel: a virtualised history that loads older pages as you scroll up and follows
// new messages while you are at the bottom, plus the optimistic copies of what you are sending.
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Virtuoso, type VirtuosoHandle } from 'react-virtuoso';
import { api } from '../../api/endpoints';
import type { Channel, Member, Message } from '../../api/types';
import { useSession } from '../../auth/session';
import { rowLayout, type RowShape } from '../../chat/grouping';
import { useLive } from '../../chat/live';
import { chronological, olderCount, removeMessage, updateMessage, type MessagePages } from '../../chat/messageCache';
import { selectPending, type PendingMessage, usePending } from '../../chat/pending';
import { queryKeys } from '../../chat/queryKeys';
import { useReadStates } from '../../chat/readStates';
import { retrySend, sendMessage } from '../../chat/send';
import { isNewer } from '../../chat/snowflake';
import { Markdown } from '../../markdown/Markdown';
import { Avatar } from '../../ui/Avatar';
import { ConfirmDialog } from '../../ui/Dialog';
import { Icon } from '../../ui/Icon';
import { Composer } from './Composer';
import { DaySeparator, MessageRow, NewMessagesMarker } from './MessageRow';
import { useMessages } from './useChatQueries';

/** Virtuoso counts item indexes from here so that prepending older pages can lower them. */
const indexOrigin = 1_000_000_000;

type Row = { key: string; shape: RowShape } & ({ kind: 'message'; message: Message } | { kind: 'pending'; pending: PendingMessage });

interface ListContext {
  channelName: string;
  hasOlder: boolean;
}

function ListHeader({ context }: { context?: ListContext }) {
  const { t } = useTranslation();
  if (!context) return null;
  if (context.hasOlder) return <div className="list-loading">{t('messages.loadingOlder')}</div>;
  return (
    <div className="channel-welcome">
      <span className="channel-welcome-icon" aria-hidden="true">
        <Icon name="hash" size={36} />
      </span>
      <h2>{t('messages.welcomeTitle', { channel: context.channelName })}</h2>
      <p>{t('messages.welcomeBody', { channel: context.channelName })}</p>
    </div>
  );
}

function ListFooter() {
  return <div className="list-footer" />;
}

const listComponents = { Header: ListHeader, Footer: ListFooter };

function PendingRow({ pending, grouped }: { pending: PendingMessage; grouped: boolean }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const user = useSession((state) => state.user);
  const name = user?.display_name || user?.username || '';
  return (
    <article className={`message message-pending ${grouped ? 'message-grouped' : ''} ${pending.status === 'failed' ? 'message-failed' : ''}`}>
      <div className="message-main">
        <div className="message-gutter">{!grouped && user && <Avatar id={user.id} name={name} size={40} />}</div>
        <div className="message-body">
          {!grouped && (
            <header className="message-header">
              <span className="message-author">{name}</span>
            </header>
          )}
          <div className="message-content">
            <Markdown content={pending.content} />
          </div>
          {pending.status === 'sending' ? (
            <span className="message-status">{t('messages.sending')}</span>
          ) : (
            <span className="message-status message-status-failed" role="alert">
              {t('messages.failed')}{' '}
              <button type="button" className="link-button" onClick={() => void retrySend(queryClient, pending)}>
                {t('common.retry')}
              </button>
            </span>
          )}
        </div>
      </div>
    </article>
  );
}

function TypingIndicator({ channelId, members }: { channelId: string; members: Member[] | undefined }) {
  const { t } = useTranslation();
  const typing = useLive((state) => state.typing[channelId]);
  const [now, setNow] = useState(() => Date.now());
  const active = Object.entries(typing ?? {}).filter(([, until]) => until > now);
  useEffect(() => {
    if (active.length === 0) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active.length]);
  const names = active.map(([userId]) => {
    const member = members?.find((m) => m.user.id === userId);
    return member ? member.user.display_name || member.user.username : '…';
  });
  return (
    <div className="typing-indicator" aria-live="polite">
      {names.length > 0 && (
        <>
          <span className="typing-dots" aria-hidden="true">
            <span />
            <span />
            <span />
          </span>
          {names.length > 3 ? t('messages.typingSeveral') : t('messages.typing', { names: names.join(', ') })}
        </>
      )}
    </div>
  );
}

/** Whether the page is visible: messages only count as read while someone can see them. */
function usePageVisible(): boolean {
  const [visible, setVisible] = useState(() => document.visibilityState !== 'hidden');
  useEffect(() => {
    const update = () => setVisible(document.visibilityState !== 'hidden');
    document.addEventListener('visibilitychange', update);
    return () => document.removeEventListener('visibilitychange', update);
  }, []);
  return visible;
}

export function MessageView({ channel, members }: { channel: Channel; members: Member[] | undefined }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const me = useSession((state) => state.user);
  const history = useMessages(channel.id);
  const pending = usePending(selectPending(channel.id));
  const readState = useReadStates((state) => state.byChannel[channel.id]);
  const applyReadState = useReadStates((state) => state.apply);
  const virtuoso = useRef<VirtuosoHandle>(null);
  const [atBottom, setAtBottom] = useState(true);
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [editingId, setEditingId] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<Message | null>(null);
  const visible = usePageVisible();
  // Where "new messages" starts is fixed when the channel opens, so it does not move as you read.
  const [unreadAfter] = useState(() => (readState && readState.unreadCount > 0 ? readState.lastReadId : null));

  const messages = useMemo(() => chronological(history.data), [history.data]);
  const byId = useMemo(() => new Map(messages.map((message) => [message.id, message])), [messages]);
  const myRole = members?.find((member) => member.user.id === me?.id)?.role;
  const canModerate = myRole === 'owner' || myRole === 'admin';

  const rows = useMemo<Row[]>(() => {
    const list: Row[] = messages.map((message) => ({
      kind: 'message',
      key: message.id,
      message,
      shape: { authorId: message.author.id, createdAt: message.created_at, isReply: Boolean(message.reply_to) },
    }));
    for (const item of pending) {
      list.push({ kind: 'pending', key: item.nonce, pending: item, shape: { authorId: me?.id ?? '', createdAt: item.createdAt, isReply: Boolean(item.replyTo) } });
    }
    return list;
  }, [messages, pending, me?.id]);

  const newest = messages[messages.length - 1];
  useEffect(() => {
    if (!atBottom || !newest || !visible) return;
    if (!isNewer(newest.id, readState?.lastReadId) && !readState?.unreadCount) return;
    const timer = setTimeout(() => {
      applyReadState({ channel_id: channel.id, last_read_message_id: newest.id, unread_count: 0 });
      api.ack(channel.id, newest.id).catch(() => {
        // Best effort: the next message read acknowledges again.
      });
    }, 400);
    return () => clearTimeout(timer);
  }, [atBottom, visible, newest, readState?.lastReadId, readState?.unreadCount, channel.id, applyReadState]);

  const send = useCallback(
    (content: string) => {
      void sendMessage(queryClient, channel.id, content, replyTo?.id ?? null);
      setReplyTo(null);
      virtuoso.current?.scrollToIndex({ index: 'LAST', behavior: 'smooth' });
    },
    [queryClient, channel.id, replyTo],
  );

  const editLast = useCallback(() => {
    const index = messages.findLastIndex((message) => message.author.id === me?.id);
    if (index === -1) return;
    setEditingId(messages[index]!.id);
    // Data-relative index: the row may be outside the rendered window.
    virtuoso.current?.scrollToIndex({ index, align: 'center' });
  }, [messages, me?.id]);

  const saveEdit = useCallback(
    (message: Message, content: string) => {
      setEditingId(null);
      queryClient.setQueryData<MessagePages>(queryKeys.messages(channel.id), (data) => updateMessage(data, { ...message, content }));
      api
        .editMessage(channel.id, message.id, content)
        .then((saved) => queryClient.setQueryData<MessagePages>(queryKeys.messages(channel.id), (data) => updateMessage(data, saved)))
        .catch(() => queryClient.setQueryData<MessagePages>(queryKeys.messages(channel.id), (data) => updateMessage(data, message)));
    },
    [queryClient, channel.id],
  );

  const confirmDelete = useCallback(
    (message: Message) => {
      api
        .deleteMessage(channel.id, message.id)
        .then(() => queryClient.setQueryData<MessagePages>(queryKeys.messages(channel.id), (data) => removeMessage(data, message.id)))
        .catch(() => undefined);
    },
    [queryClient, channel.id],
  );

  const endEdit = useCallback(() => setEditingId(null), []);
  const onStartEdit = useCallback((message: Message) => setEditingId(message.id), []);

  const renderRow = (index: number, row: Row) => {
    const position = index - (indexOrigin - olderCount(history.data));
    const previous = rows[position - 1];
    const layout = rowLayout(previous?.shape, row.shape);
    const showMarker =
      row.kind === 'message' && unreadAfter !== null && isNewer(row.message.id, unreadAfter) && (previous?.kind !== 'message' || !isNewer(previous.message.id, unreadAfter));
    return (
      <div className="message-row">
        {layout.newDay && <DaySeparator date={new Date(row.shape.createdAt)} />}
        {showMarker && <NewMessagesMarker />}
        {row.kind === 'pending' ? (
          <PendingRow pending={row.pending} grouped={layout.grouped && !showMarker} />
        ) : (
          <MessageRow
            message={row.message}
            grouped={layout.grouped && !showMarker}
            repliedTo={row.message.reply_to ? byId.get(row.message.reply_to) : undefined}
            canEdit={row.message.author.id === me?.id}
            canDelete={row.message.author.id === me?.id || canModerate}
            editing={editingId === row.message.id}
            onReply={setReplyTo}
            onStartEdit={onStartEdit}
            onEndEdit={endEdit}
            onSaveEdit={saveEdit}
            onDelete={setDeleting}
          />
        )}
      </div>
    );
  };

  return (
    <section className="message-view" aria-label={t('messages.list', { channel: channel.name })}>
      <div className="message-list" id="messages">
        {history.isPending ? (
          <div className="list-loading">{t('app.loading')}</div>
        ) : history.isError ? (
          <div className="list-loading" role="alert">
            {t('errors.generic')}{' '}
            <button type="button" className="link-button" onClick={() => void history.refetch()}>
              {t('common.retry')}
            </button>
          </div>
        ) : (
          <Virtuoso<Row, ListContext>
            ref={virtuoso}
            className="virtuoso"
            data={rows}
            context={{ channelName: channel.name, hasOlder: Boolean(history.hasNextPage) }}
            components={listComponents}
            firstItemIndex={indexOrigin - olderCount(history.data)}
            initialTopMostItemIndex={{ index: 'LAST', align: 'end' }}
            computeItemKey={(_index, row) => row.key}
            itemContent={renderRow}
            alignToBottom
            followOutput={(bottom) => (bottom ? 'smooth' : false)}
            atBottomStateChange={setAtBottom}
            atBottomThreshold={48}
            increaseViewportBy={{ top: 600, bottom: 200 }}
            startReached={() => {
              if (history.hasNextPage && !history.isFetchingNextPage) void history.fetchNextPage();
            }}
          />
        )}
        {!atBottom && (
          <button type="button" className="jump-to-present" onClick={() => virtuoso.current?.scrollToIndex({ index: 'LAST', behavior: 'smooth' })}>
            {t('messages.jumpToPresent')}
            <Icon name="arrowDown" size={16} />
          </button>
        )}
      </div>
      <Composer
        channelId={channel.id}
        channelName={channel.name}
        replyTo={replyTo}
        onCancelReply={() => setReplyTo(null)}
        onSend={send}
        onEditLast={editLast}
      />
      <TypingIndicator channelId={channel.id} members={members} />
      {deleting && (
        <ConfirmDialog
          title={t('messages.deleteTitle')}
          description={t('messages.deleteConfirm')}
          confirmLabel={t('common.delete')}
          onConfirm={() => confirmDelete(deleting)}
          onClose={() => setDeleting(null)}
        >
          <div className="delete-preview">
            <Markdown content={deleting.content} />
          </div>
        </ConfirmDialog>
      )}
    </section>
  );
}
