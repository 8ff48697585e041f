// Live notices for messages arriving in other channels; clicking one opens that channel.
import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import type { Channel, Message } from '../../api/types';
import { queryKeys } from '../../chat/queryKeys';
import { toastLifetimeMs, useToasts } from '../../chat/toasts';
import { plainText } from '../../markdown/parse';
import { Avatar } from '../../ui/Avatar';
import { Icon } from '../../ui/Icon';

function Toast({ message }: { message: Message }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const dismiss = useToasts((state) => state.dismiss);
  const channel = queryClient.getQueryData<Channel[]>(queryKeys.channels(message.guild_id))?.find((c) => c.id === message.channel_id);
  const author = message.author.display_name || message.author.username;

  useEffect(() => {
    const timer = setTimeout(() => dismiss(message.id), toastLifetimeMs);
    return () => clearTimeout(timer);
  }, [dismiss, message.id]);

  return (
    <li className="toast">
      <button
        type="button"
        className="toast-open"
        onClick={() => {
          dismiss(message.id);
          navigate(`/channels/${message.guild_id}/${message.channel_id}`);
        }}
      >
        <Avatar id={message.author.id} name={author} size={32} />
        <span className="toast-text">
          <span className="toast-title">
            {author}
            {channel && <span className="toast-channel"> · #{channel.name}</span>}
          </span>
          <span className="toast-body">{plainText(message.content)}</span>
        </span>
      </button>
      <button type="button" className="icon-button toast-close" aria-label={t('common.close')} onClick={() => dismiss(message.id)}>
        <Icon name="close" size={16} />
      </button>
    </li>
  );
}

export function Toasts() {
  const toasts = useToasts((state) => state.toasts);
  return (
    <ol className="toasts" aria-live="polite">
      {toasts.map((message) => (
        <Toast key={message.id} message={message} />
      ))}
    </ol>
  );
}
