// The open channel: a virtualised history that loads older pages as you scroll up and follows
// new messages while you are at the bottom, plus the optimistic copies of what you are sending.
import { useQueryClient } from '@tanstack/react-query';
import { type RefObject, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Virtuoso, type VirtuosoHandle } from 'react-virtuoso';
import { api } from '../../api/endpoints';
import type { Channel, Member, Message } from '../../api/types';
import { useSession } from '../../auth/session';
import { rowLayout, type RowShape } from '../../chat/grouping';
import { useLive } from '../../chat/live';
import { chronological, countBefore, findMessage, removeMessage, updateMessage, type MessagePages } from '../../chat/messageCache';
import { selectPending, type PendingMessage, usePending } from '../../chat/pending';
import { queryKeys } from '../../chat/queryKeys';
import { type ChannelReadState, unreadCount, useReadStates } from '../../chat/readStates';
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

type Row =
  | ({ key: string; shape: RowShape } & ({ kind: 'message'; message: Message } | { kind: 'pending'; pending: PendingMessage }))
  | { kind: 'welcome'; key: 'welcome'; shape: null };

interface ListContext {
  channelName: string;
  hasOlder: boolean;
}

function ListHeader({ context }: { context?: ListContext }) {
  const { t } = useTranslation();
  return context?.hasOlder ? <div className="list-loading">{t('messages.loadingOlder')}</div> : null;
}

/**
 * The start of the channel. It is the first row rather than the list's header, so that a short
 * channel shows it right above its first message, at the bottom like the messages.
 */
function ChannelWelcome({ channelName }: { channelName: string }) {
  const { t } = useTranslation();
  return (
    <div className="channel-welcome">
      <span className="channel-welcome-icon" aria-hidden="true">
        <Icon name="hash" size={36} />
      </span>
      <h2>{t('messages.welcomeTitle', { channel: channelName })}</h2>
      <p>{t('messages.welcomeBody', { channel: channelName })}</p>
    </div>
  );
}

function ListFooter() {
  return <div className="list-footer" />;
}

const listComponents = { Header: ListHeader, Footer: ListFooter };
const rowKey = (_index: number, row: Row) => row.key;
const followWhenAtBottom = (atBottom: boolean) => (atBottom ? ('smooth' as const) : false);

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

/**
 * Keeps the newest message in view when the list's box shrinks while the reader is at the bottom
 * (the connection banner appearing, the composer growing, a reply bar, a phone keyboard):
 * Virtuoso follows new items, not a smaller viewport.
 */
function useStickToBottom(box: RefObject<HTMLDivElement | null>, atBottom: boolean): void {
  const stick = useRef(atBottom);
  stick.current = atBottom;
  useEffect(() => {
    const element = box.current;
    if (!element || typeof ResizeObserver === 'undefined') return;
    let height = element.clientHeight;
    const observer = new ResizeObserver(() => {
      const next = element.clientHeight;
      const scroller = element.querySelector<HTMLElement>('.virtuoso');
      if (next < height && stick.current && scroller) scroller.scrollTop = scroller.scrollHeight;
      height = next;
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [box]);
}

/** The last read message when some are unread: the "new messages" line goes after it. */
function newMessagesAfter(state: ChannelReadState | undefined): string | null {
  return state && unreadCount(state) > 0 ? state.lastReadId : null;
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
  const readStatesLoaded = useReadStates((state) => state.loaded);
  const applyReadState = useReadStates((state) => state.apply);
  const virtuoso = useRef<VirtuosoHandle>(null);
  const [atBottom, setAtBottom] = useState(true);
  const listBox = useRef<HTMLDivElement>(null);
  useStickToBottom(listBox, atBottom);
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [editingId, setEditingId] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<Message | null>(null);
  const visible = usePageVisible();
  // Where "new messages" starts is fixed when the channel opens (or when the read states first
  // arrive), so it does not move as you read. `undefined`: not known yet.
  const [unreadAfter, setUnreadAfter] = useState<string | null | undefined>(() =>
    readStatesLoaded ? newMessagesAfter(readState) : undefined,
  );
  if (unreadAfter === undefined && readStatesLoaded) setUnreadAfter(newMessagesAfter(readState));

  const messages = useMemo(() => chronological(history.data), [history.data]);
  const myRole = members?.find((member) => member.user.id === me?.id)?.role;
  const canModerate = myRole === 'owner' || myRole === 'admin';

  const atStart = history.isSuccess && !history.hasNextPage;
  // Each message keeps its row object, so a new page allocates rows for its own messages only
  // (a long read holds thousands, and every page rebuilds the list).
  const [messageRows] = useState(() => new WeakMap<Message, Row>());
  const rows = useMemo<Row[]>(() => {
    const list: Row[] = atStart ? [{ kind: 'welcome', key: 'welcome', shape: null }] : [];
    for (const message of messages) {
      let row = messageRows.get(message);
      if (!row) {
        row = {
          kind: 'message',
          key: message.id,
          message,
          shape: { authorId: message.author.id, createdAt: message.created_at, isReply: Boolean(message.reply_to) },
        };
        messageRows.set(message, row);
      }
      list.push(row);
    }
    for (const item of pending) {
      list.push({ kind: 'pending', key: item.nonce, pending: item, shape: { authorId: me?.id ?? '', createdAt: item.createdAt, isReply: Boolean(item.replyTo) } });
    }
    return list;
  }, [atStart, messages, pending, me?.id]);
  // Rows prepended (older history, then the welcome) lower the first index, so the view stays
  // put. Counted against the oldest message first shown, not page sizes: a refetch re-cuts pages.
  const anchor = useRef<string | null>(null);
  if (anchor.current === null && messages.length > 0) anchor.current = messages[0]!.id;
  const firstItemIndex = indexOrigin - countBefore(messages, anchor.current) - (atStart ? 1 : 0);

  const newest = messages[messages.length - 1];
  const { refetch } = history;
  useEffect(() => {
    if (!readStatesLoaded || !atBottom || !newest || !visible) return;
    if (!isNewer(newest.id, readState?.lastReadId)) {
      // The server counts messages we have not loaded: fetch them (they are acked once shown).
      if (readState?.unreadCount) void refetch();
      return;
    }
    const timer = setTimeout(() => {
      applyReadState({ channel_id: channel.id, last_read_message_id: newest.id, unread_count: 0 });
      api.ack(channel.id, newest.id).then(applyReadState, () => {
        // Best effort: the next message read acknowledges again.
      });
    }, 400);
    return () => clearTimeout(timer);
  }, [readStatesLoaded, atBottom, visible, newest, readState?.lastReadId, readState?.unreadCount, channel.id, applyReadState, refetch]);

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
    // Data-relative index (the welcome row comes first): the row may be outside the rendered window.
    virtuoso.current?.scrollToIndex({ index: index + (atStart ? 1 : 0), align: 'center' });
  }, [messages, me?.id, atStart]);

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

  // Virtuoso re-renders every shown row when a prop changes identity, so the props it gets
  // change only with what they show (scrolling re-renders the list on every event).
  const renderRow = useCallback((index: number, row: Row) => {
    if (row.kind === 'welcome') return <ChannelWelcome channelName={channel.name} />;
    const position = index - firstItemIndex;
    const previous = rows[position - 1];
    const layout = rowLayout(previous?.shape ?? undefined, row.shape);
    const showMarker =
      row.kind === 'message' && unreadAfter != null && isNewer(row.message.id, unreadAfter) && (previous?.kind !== 'message' || !isNewer(previous.message.id, unreadAfter));
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
            repliedTo={row.message.reply_to ? findMessage(messages, row.message.reply_to) : undefined}
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
  }, [channel.name, firstItemIndex, rows, unreadAfter, messages, me?.id, canModerate, editingId, onStartEdit, endEdit, saveEdit]);
  const hasOlder = Boolean(history.hasNextPage);
  const listContext = useMemo(() => ({ channelName: channel.name, hasOlder }), [channel.name, hasOlder]);
  const { fetchNextPage, isFetchingNextPage } = history;
  const loadOlder = useCallback(() => {
    if (hasOlder && !isFetchingNextPage) void fetchNextPage();
  }, [hasOlder, isFetchingNextPage, fetchNextPage]);

  return (
    <section className="message-view" aria-label={t('messages.list', { channel: channel.name })}>
      <div className="message-list" id="messages" ref={listBox}>
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
            context={listContext}
            components={listComponents}
            firstItemIndex={firstItemIndex}
            initialTopMostItemIndex={{ index: 'LAST', align: 'end' }}
            computeItemKey={rowKey}
            itemContent={renderRow}
            alignToBottom
            followOutput={followWhenAtBottom}
            atBottomStateChange={setAtBottom}
            atBottomThreshold={48}
            increaseViewportBy={{ top: 600, bottom: 200 }}
            startReached={loadOlder}
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
