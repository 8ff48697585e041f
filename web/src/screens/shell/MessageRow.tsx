// One message in the list: a full row (avatar, name, time) or a compact continuation, with its
// reply reference, formatted content, and actions on hover or keyboard focus.
import { useQuery } from '@tanstack/react-query';
import { memo, useState, type FocusEvent, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/endpoints';
import type { Message } from '../../api/types';
import { queryKeys } from '../../chat/queryKeys';
import { daysAgo, formatDateTime, formatDay, formatTime } from '../../i18n/format';
import { Markdown } from '../../markdown/Markdown';
import { plainText } from '../../markdown/parse';
import { Avatar } from '../../ui/Avatar';
import { Icon } from '../../ui/Icon';

export function DaySeparator({ date }: { date: Date }) {
  const { t, i18n } = useTranslation();
  const ago = daysAgo(date, new Date());
  const label = ago === 0 ? t('messages.today') : ago === 1 ? t('messages.yesterday') : formatDay(date, i18n.language);
  return (
    <div className="day-separator" role="separator" aria-label={label}>
      <span>{label}</span>
    </div>
  );
}

export function NewMessagesMarker() {
  const { t } = useTranslation();
  return (
    <div className="new-messages-marker" role="separator" aria-label={t('messages.newMessages')}>
      <span>{t('messages.newMessages')}</span>
    </div>
  );
}

/** `language` comes from the row: every `useTranslation` copies the i18n instance on mount. */
function Timestamp({ iso, language, compact }: { iso: string; language: string; compact?: boolean }) {
  const date = new Date(iso);
  return (
    <time className={compact ? 'message-time message-time-compact' : 'message-time'} dateTime={iso} title={formatDateTime(date, language)}>
      {formatTime(date, language)}
    </time>
  );
}

/** The line above a reply: who wrote the original and how it began. */
function ReplyReference({ channelId, messageId, loaded }: { channelId: string; messageId: string; loaded: Message | undefined }) {
  const { t } = useTranslation();
  // Not in the loaded history (older, or deleted): ask for that one message.
  const fetched = useQuery({
    queryKey: queryKeys.message(channelId, messageId),
    queryFn: () => api.message(channelId, messageId),
    enabled: !loaded,
    retry: false,
    staleTime: Infinity,
  });
  const original = loaded ?? fetched.data;
  return (
    <div className="message-reply-ref">
      <Icon name="reply" size={14} />
      {original ? (
        <>
          <span className="message-reply-author">{original.author.display_name || original.author.username}</span>
          <span className="message-reply-text">{plainText(original.content)}</span>
        </>
      ) : (
        <span className="message-reply-text message-reply-missing">{fetched.isPending ? '…' : t('messages.replyMissing')}</span>
      )}
    </div>
  );
}

export interface MessageRowProps {
  message: Message;
  grouped: boolean;
  repliedTo: Message | undefined;
  canEdit: boolean;
  canDelete: boolean;
  editing: boolean;
  onReply: (message: Message) => void;
  onStartEdit: (message: Message) => void;
  onEndEdit: () => void;
  onSaveEdit: (message: Message, content: string) => void;
  onDelete: (message: Message) => void;
}

function EditBox({ message, onSave, onCancel }: { message: Message; onSave: (content: string) => void; onCancel: () => void }) {
  const { t } = useTranslation();
  const [value, setValue] = useState(message.content);
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      onCancel();
    } else if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      const content = value.trim();
      if (content && content !== message.content) onSave(content);
      else onCancel();
    }
  };
  return (
    <div className="edit-box">
      <textarea
        className="composer-input edit-input"
        aria-label={t('messages.editing')}
        value={value}
        maxLength={4000}
        rows={Math.min(10, value.split('\n').length)}
        autoFocus
        onFocus={(event) => event.target.setSelectionRange(event.target.value.length, event.target.value.length)}
        onChange={(event) => setValue(event.target.value)}
        onKeyDown={onKeyDown}
      />
      <span className="edit-hint">{t('messages.editHint')}</span>
    </div>
  );
}

/**
 * Whether the pointer is over an element or the focus inside it. Only such a message renders its
 * toolbar: a list shows dozens of messages and scrolling renders new ones all the time, so
 * toolbars on every row were a third of the list's elements for one visible at a time.
 */
function useHoverOrFocus(editing: boolean) {
  const [hovered, setHovered] = useState(false);
  const [focused, setFocused] = useState(false);
  // Closing the edit box removes the element that held the focus, and not every browser reports
  // that as a blur.
  const [wasEditing, setWasEditing] = useState(editing);
  if (wasEditing !== editing) {
    setWasEditing(editing);
    if (!editing) setFocused(false);
  }
  const handlers = {
    onMouseEnter: () => setHovered(true),
    onMouseLeave: () => setHovered(false),
    onFocus: () => setFocused(true),
    // Focus moving between the message and its own buttons keeps the toolbar.
    onBlur: (event: FocusEvent<HTMLElement>) => setFocused(event.currentTarget.contains(event.relatedTarget)),
  };
  return [hovered || focused, handlers] as const;
}

export const MessageRow = memo(function MessageRow(props: MessageRowProps) {
  const { message, grouped, repliedTo, editing } = props;
  const { t, i18n } = useTranslation();
  const [active, activeHandlers] = useHoverOrFocus(editing);
  const name = message.author.display_name || message.author.username;
  return (
    // Focusable, so that keyboard users reach the toolbar: Tab to a message, then to its buttons.
    <article
      className={`message ${grouped ? 'message-grouped' : ''} ${editing ? 'message-editing' : ''}`}
      aria-label={name}
      tabIndex={0}
      {...activeHandlers}
    >
      {message.reply_to && <ReplyReference channelId={message.channel_id} messageId={message.reply_to} loaded={repliedTo} />}
      <div className="message-main">
        <div className="message-gutter">
          {grouped ? <Timestamp iso={message.created_at} language={i18n.language} compact /> : <Avatar id={message.author.id} name={name} size={40} />}
        </div>
        <div className="message-body">
          {!grouped && (
            <header className="message-header">
              <span className="message-author">{name}</span>
              <Timestamp iso={message.created_at} language={i18n.language} />
            </header>
          )}
          {editing ? (
            <EditBox message={message} onSave={(content) => props.onSaveEdit(message, content)} onCancel={props.onEndEdit} />
          ) : (
            <div className="message-content">
              <Markdown
                content={message.content}
                trailing={
                  message.edited_at && (
                    <span className="message-edited" title={formatDateTime(new Date(message.edited_at), i18n.language)}>
                      {t('messages.edited')}
                    </span>
                  )
                }
              />
            </div>
          )}
        </div>
      </div>
      {active && !editing && (
        <div className="message-actions" role="toolbar" aria-label={t('messages.actions')}>
          <button type="button" className="icon-button" aria-label={t('messages.reply')} title={t('messages.reply')} onClick={() => props.onReply(message)}>
            <Icon name="reply" size={18} />
          </button>
          {props.canEdit && (
            <button type="button" className="icon-button" aria-label={t('common.edit')} title={t('common.edit')} onClick={() => props.onStartEdit(message)}>
              <Icon name="edit" size={18} />
            </button>
          )}
          {props.canDelete && (
            <button type="button" className="icon-button icon-button-danger" aria-label={t('common.delete')} title={t('common.delete')} onClick={() => props.onDelete(message)}>
              <Icon name="trash" size={18} />
            </button>
          )}
        </div>
      )}
    </article>
  );
});
