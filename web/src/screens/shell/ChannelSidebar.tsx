// The guild's channel list (with unread dots) and, at the bottom, the signed-in user's panel.
import { lazy, Suspense, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { NavLink } from 'react-router';
import type { Channel, Guild, Member, Snowflake } from '../../api/types';
import { useSession } from '../../auth/session';
import { channelTree } from '../../chat/channelTree';
import { unreadCount, useReadStates } from '../../chat/readStates';
import { Avatar } from '../../ui/Avatar';
import { Icon } from '../../ui/Icon';
import { voice } from '../../voice/connection';
import { useVoice } from '../../voice/useVoice';
import { VoiceChannelUsers } from '../voice/VoiceChannelUsers';
import { VoicePanel } from '../voice/VoicePanel';
import { InviteDialog } from './GuildDialogs';

// Settings are rarely opened: keep them out of the first load.
const UserSettings = lazy(() => import('../UserSettings'));
const GuildSettings = lazy(() => import('../guildSettings/GuildSettings'));

/** Opening a voice channel joins it (unless you are already in it) and shows the call. */
function VoiceChannelLink({ channel, onNavigate, nameOf }: { channel: Channel; onNavigate: () => void; nameOf: (userId: Snowflake) => string }) {
  const { t } = useTranslation();
  const { channelId: callChannelId, status } = useVoice();
  const inCall = callChannelId === channel.id && status !== 'idle';
  return (
    <>
      <NavLink
        to={`/channels/${channel.guild_id}/${channel.id}`}
        onClick={() => {
          onNavigate();
          if (!inCall) void voice.join(channel.guild_id, channel.id);
        }}
        className={({ isActive }) => `channel-link ${isActive ? 'channel-link-active' : ''} ${inCall ? 'channel-link-in-call' : ''}`}
        aria-label={inCall ? channel.name : t('voice.joinChannel', { channel: channel.name })}
      >
        <Icon name="speaker" size={18} />
        <span className="channel-name">{channel.name}</span>
      </NavLink>
      <VoiceChannelUsers guildId={channel.guild_id} channelId={channel.id} channelName={channel.name} nameOf={nameOf} />
    </>
  );
}

function ChannelLink({ channel, onNavigate }: { channel: Channel; onNavigate: () => void }) {
  const { t } = useTranslation();
  const unread = useReadStates((state) => unreadCount(state.byChannel[channel.id]));
  return (
    <NavLink
      to={`/channels/${channel.guild_id}/${channel.id}`}
      onClick={onNavigate}
      className={({ isActive }) => `channel-link ${isActive ? 'channel-link-active' : ''} ${unread ? 'channel-link-unread' : ''}`}
      aria-label={unread ? `${channel.name} (${t('channels.unreadCount', { count: unread })})` : channel.name}
    >
      <Icon name="hash" size={18} />
      <span className="channel-name">{channel.name}</span>
      {unread > 0 && <span className="unread-dot" aria-hidden="true" />}
    </NavLink>
  );
}

function UserPanel() {
  const { t } = useTranslation();
  const user = useSession((state) => state.user);
  const [settingsOpen, setSettingsOpen] = useState(false);
  if (!user) return null;
  const name = user.display_name || user.username;
  return (
    <section className="user-panel" aria-label={t('settings.account')}>
      <Avatar id={user.id} name={name} size={32} status="online" />
      <span className="user-panel-names">
        <span className="user-panel-name">{name}</span>
        <span className="user-panel-username">@{user.username}</span>
      </span>
      <button type="button" className="icon-button" aria-label={t('settings.open')} title={t('settings.open')} onClick={() => setSettingsOpen(true)}>
        <Icon name="gear" />
      </button>
      {settingsOpen && (
        <Suspense fallback={null}>
          <UserSettings onClose={() => setSettingsOpen(false)} />
        </Suspense>
      )}
    </section>
  );
}

export function ChannelSidebar({
  guild,
  channels,
  members,
  onNavigate,
}: {
  guild: Guild | undefined;
  channels: Channel[];
  members: Member[] | undefined;
  onNavigate: () => void;
}) {
  const { t } = useTranslation();
  const me = useSession((state) => state.user);
  const nameOf = (userId: Snowflake) => {
    const user = members?.find((member) => member.user.id === userId)?.user ?? (me?.id === userId ? me : undefined);
    return user ? user.display_name || user.username : '…';
  };
  const [inviting, setInviting] = useState(false);
  const [configuring, setConfiguring] = useState(false);
  const sections = channelTree(channels);
  return (
    <div className="channel-sidebar">
      <header className="sidebar-header">
        <h2 className="sidebar-title">{guild?.name ?? t('app.name')}</h2>
        {guild && (
          <span className="sidebar-header-actions">
            <button type="button" className="icon-button" aria-label={t('guilds.invitePeople')} title={t('guilds.invitePeople')} onClick={() => setInviting(true)}>
              <Icon name="invite" />
            </button>
            <button
              type="button"
              className="icon-button guild-settings-button"
              aria-label={t('guildSettings.open')}
              title={t('guildSettings.open')}
              aria-haspopup="dialog"
              onClick={() => setConfiguring(true)}
            >
              <Icon name="gear" />
            </button>
          </span>
        )}
      </header>
      <nav className="channel-list" aria-label={t('channels.list')}>
        {guild && sections.length === 0 && <p className="sidebar-empty">{t('channels.none')}</p>}
        {sections.map((section) => (
          <section key={section.category?.id ?? section.kind} className="channel-section">
            <h3 className="channel-section-title">
              {section.category ? section.category.name : section.kind === 'voice' ? t('channels.voice') : t('channels.text')}
            </h3>
            <ul>
              {section.channels.map((channel) => (
                <li key={channel.id}>
                  {channel.kind === 'voice' ? (
                    <VoiceChannelLink channel={channel} onNavigate={onNavigate} nameOf={nameOf} />
                  ) : (
                    <ChannelLink channel={channel} onNavigate={onNavigate} />
                  )}
                </li>
              ))}
            </ul>
          </section>
        ))}
      </nav>
      <VoicePanel channels={channels} onNavigate={onNavigate} />
      <UserPanel />
      {inviting && guild && <InviteDialog guild={guild} onClose={() => setInviting(false)} />}
      {configuring && guild && (
        <Suspense fallback={null}>
          <GuildSettings key={guild.id} guild={guild} onClose={() => setConfiguring(false)} />
        </Suspense>
      )}
    </div>
  );
}
