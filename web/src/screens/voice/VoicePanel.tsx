// Above the user panel while in a call: where you are connected (a link back to the call),
// the connection's state, and a button to leave, wherever you are in the app.
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import type { Channel } from '../../api/types';
import { Icon } from '../../ui/Icon';
import { voice } from '../../voice/connection';
import { useVoice } from '../../voice/useVoice';

export function VoicePanel({ channels, onNavigate }: { channels: Channel[]; onNavigate: () => void }) {
  const { t } = useTranslation();
  const { status, guildId, channelId, connection } = useVoice();
  if (status === 'idle' || !guildId || !channelId) return null;
  const channel = channels.find((candidate) => candidate.id === channelId);
  const state =
    status === 'joining' ? t('voice.joining') : connection === 'disconnected' || connection === 'failed' ? t('voice.reconnecting') : t('voice.connected');
  return (
    <section className="voice-panel" aria-label={t('voice.connected')}>
      <span className="voice-panel-text">
        <span className={`voice-panel-state ${status === 'connected' ? 'voice-panel-state-ok' : ''}`}>{state}</span>
        {channel && (
          <Link className="voice-panel-channel" to={`/channels/${guildId}/${channelId}`} onClick={onNavigate}>
            {t('voice.inChannel', { channel: channel.name })}
          </Link>
        )}
      </span>
      <button type="button" className="icon-button icon-button-danger" aria-label={t('voice.leave')} title={t('voice.leave')} onClick={() => void voice.leave()}>
        <Icon name="phoneOff" />
      </button>
    </section>
  );
}
