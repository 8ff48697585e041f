// Muted / deafened / muted-by-a-moderator icons with their words for screen readers.
import { useTranslation } from 'react-i18next';
import { Icon } from '../../ui/Icon';
import type { VoiceState } from '../../voice/protocol';

export function VoiceFlags({ state, size = 16 }: { state: Pick<VoiceState, 'self_mute' | 'self_deaf' | 'server_mute'>; size?: number }) {
  const { t } = useTranslation();
  const flags: { key: string; icon: 'micOff' | 'headphonesOff'; label: string; danger: boolean }[] = [];
  if (state.server_mute) flags.push({ key: 'server', icon: 'micOff', label: t('voice.serverMuted'), danger: true });
  else if (state.self_mute) flags.push({ key: 'mute', icon: 'micOff', label: t('voice.muted'), danger: false });
  if (state.self_deaf) flags.push({ key: 'deaf', icon: 'headphonesOff', label: t('voice.deafened'), danger: false });
  return (
    <>
      {flags.map((flag) => (
        <span key={flag.key} className={`voice-flag ${flag.danger ? 'voice-flag-danger' : ''}`} title={flag.label} data-flag={flag.key}>
          <Icon name={flag.icon} size={size} />
          <span className="visually-hidden">{flag.label}</span>
        </span>
      ))}
    </>
  );
}
