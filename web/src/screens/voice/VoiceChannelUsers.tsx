// The people in a voice channel, listed under it in the sidebar: their flags and a ring while
// they speak.
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import type { Snowflake } from '../../api/types';
import { Avatar } from '../../ui/Avatar';
import { Icon } from '../../ui/Icon';
import { occupants, useVoiceStates } from '../../voice/voiceStates';
import { VoiceFlags } from './VoiceFlags';

export function VoiceChannelUsers({
  guildId,
  channelId,
  channelName,
  nameOf,
}: {
  guildId: Snowflake;
  channelId: Snowflake;
  channelName: string;
  nameOf: (userId: Snowflake) => string;
}) {
  const { t } = useTranslation();
  const guildStates = useVoiceStates((store) => store.byGuild[guildId]);
  const speaking = useVoiceStates((store) => store.speaking);
  const people = useMemo(() => occupants(guildStates ? { [guildId]: guildStates } : {}, guildId, channelId), [guildStates, guildId, channelId]);
  if (people.length === 0) return null;
  return (
    <ul className="voice-users" aria-label={t('voice.participants', { channel: channelName })}>
      {people.map((state) => {
        const name = nameOf(state.user_id);
        const talking = Boolean(speaking[state.user_id]) && !state.self_mute && !state.server_mute;
        return (
          <li key={state.user_id} className={`voice-user ${talking ? 'voice-user-speaking' : ''}`} data-user-id={state.user_id}>
            <span className="voice-user-avatar">
              <Avatar id={state.user_id} name={name} size={24} />
            </span>
            <span className="voice-user-name">{name}</span>
            {talking && <span className="visually-hidden">{t('voice.speaking')}</span>}
            {state.self_video && (
              <span className="voice-flag" title={t('voice.video')}>
                <Icon name="video" size={14} />
                <span className="visually-hidden">{t('voice.video')}</span>
              </span>
            )}
            <VoiceFlags state={state} size={14} />
          </li>
        );
      })}
    </ul>
  );
}
