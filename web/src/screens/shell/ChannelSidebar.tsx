// The guild's channel list (with unread dots) and, at the bottom, the signed-in user's panel.
import { lazy, Suspense, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { NavLink } from 'react-router';
import type { Channel, Guild } from '../../api/types';
import { useSession } from '../../auth/session';
import { channelTree } from '../../chat/channelTree';
import { unreadCount, useReadStates } from '../../chat/readStates';
import { Avatar } from '../../ui/Avatar';
import { Icon } from '../../ui/Icon';
import { InviteDialog } from './GuildDialogs';

// Settings are rarely opened: keep them out of the first load.
const UserSettings = lazy(() => import('../UserSettings'));
const GuildSettings = lazy(() => import('../guildSettings/GuildSettings'));

function ChannelLink({ channel, onNavigate }: { channel: Channel; onNavigate: () => void }) {
  const { t } = useTranslation();
  const unread = useReadStates((state) => unreadCount(state.byChannel[channel.id]));
  if (channel.kind === 'voice') {
    return (
      <span className="channel-link channel-link-voice" aria-disabled="true">
        <Icon name="speaker" size={18} />
        <span className="channel-name">{channel.name}</span>
      </span>
    );
  }
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

export function ChannelSidebar({ guild, channels, onNavigate }: { guild: Guild | undefined; channels: Channel[]; onNavigate: () => void }) {
  const { t } = useTranslation();
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
                  <ChannelLink channel={channel} onNavigate={onNavigate} />
                </li>
              ))}
            </ul>
          </section>
        ))}
      </nav>
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
