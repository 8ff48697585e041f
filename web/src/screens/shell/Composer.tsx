// The message box: Enter sends, Shift+Enter breaks the line, ↑ in an empty box edits your last
// message, Escape drops a pending reply. Typing is announced at most every few seconds.
import { useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { Message } from '../../api/types';
import { gateway } from '../../gateway/connection';
import { Icon } from '../../ui/Icon';

const maxLength = 4000;
/** Re-announce typing this often while the user keeps typing (the indicator lasts ~10 s). */
const typingEveryMs = 8_000;

export interface ComposerProps {
  channelId: string;
  channelName: string;
  replyTo: Message | null;
  onCancelReply: () => void;
  onSend: (content: string) => void;
  onEditLast: () => void;
}

export function Composer({ channelId, channelName, replyTo, onCancelReply, onSend, onEditLast }: ComposerProps) {
  const { t } = useTranslation();
  const [value, setValue] = useState('');
  const lastTyping = useRef(0);
  const input = useRef<HTMLTextAreaElement>(null);

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    const content = value.trim();
    if (!content || [...content].length > maxLength) return;
    onSend(content);
    setValue('');
    lastTyping.current = 0;
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    // Keys pressed while an IME (Korean input) is composing belong to the IME.
    if (event.nativeEvent.isComposing) return;
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      submit();
    } else if (event.key === 'ArrowUp' && value === '') {
      event.preventDefault();
      onEditLast();
    } else if (event.key === 'Escape' && replyTo) {
      event.preventDefault();
      onCancelReply();
    }
  };

  const onChange = (next: string) => {
    setValue(next);
    const now = Date.now();
    if (next !== '' && now - lastTyping.current > typingEveryMs) {
      lastTyping.current = now;
      gateway.send({ op: 'typing', d: { channel_id: channelId } });
    }
  };

  const length = [...value.trim()].length;
  return (
    <form className="composer" onSubmit={submit}>
      {replyTo && (
        <div className="composer-reply">
          <span>{t('messages.replyingTo', { name: replyTo.author.display_name || replyTo.author.username })}</span>
          <button type="button" className="icon-button" aria-label={t('messages.cancelReply')} onClick={onCancelReply}>
            <Icon name="close" size={16} />
          </button>
        </div>
      )}
      <div className="composer-box">
        <textarea
          ref={input}
          className="composer-input"
          aria-label={t('messages.composer', { channel: channelName })}
          placeholder={t('messages.composer', { channel: channelName })}
          value={value}
          rows={Math.min(10, value.split('\n').length)}
          onChange={(event) => onChange(event.target.value)}
          onKeyDown={onKeyDown}
          autoFocus
        />
        {length > maxLength - 200 && (
          <span className={`composer-count ${length > maxLength ? 'composer-count-over' : ''}`} aria-live="polite">
            {maxLength - length}
          </span>
        )}
        <button type="submit" className="icon-button composer-send" aria-label={t('messages.send')} disabled={length === 0 || length > maxLength}>
          <Icon name="send" />
        </button>
      </div>
    </form>
  );
}
