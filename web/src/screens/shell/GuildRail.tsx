// The column of guild icons on the far left, with create and join at the bottom.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { NavLink } from 'react-router';
import type { Guild } from '../../api/types';
import { GuildIcon } from '../../ui/Avatar';
import { Icon } from '../../ui/Icon';
import { CreateGuildDialog, JoinGuildDialog } from './GuildDialogs';

export function GuildRail({ guilds, hasUnread }: { guilds: Guild[]; hasUnread: (guildId: string) => boolean }) {
  const { t } = useTranslation();
  const [dialog, setDialog] = useState<'create' | 'join' | null>(null);
  return (
    <nav className="guild-rail" aria-label={t('guilds.rail')}>
      <div className="guild-rail-brand" aria-hidden="true">
        <span className="brand-mark">마</span>
      </div>
      <div className="guild-rail-separator" />
      <ul className="guild-list">
        {guilds.map((guild) => (
          <li key={guild.id} className="guild-item">
            <NavLink
              to={`/channels/${guild.id}`}
              className={({ isActive }) => `guild-button ${isActive ? 'guild-button-active' : ''}`}
              title={guild.name}
            >
              {hasUnread(guild.id) && <span className="guild-unread" aria-hidden="true" />}
              <GuildIcon id={guild.id} name={guild.name} size={48} />
              {/* The name as the link's text rather than an aria-label, which would not contain the visible initials. */}
              <span className="visually-hidden">{hasUnread(guild.id) ? `${guild.name} (${t('channels.unread')})` : guild.name}</span>
            </NavLink>
          </li>
        ))}
      </ul>
      <div className="guild-rail-actions">
        <button type="button" className="guild-action" aria-label={t('guilds.create')} title={t('guilds.create')} onClick={() => setDialog('create')}>
          <Icon name="plus" size={24} />
        </button>
        <button type="button" className="guild-action" aria-label={t('guilds.join')} title={t('guilds.join')} onClick={() => setDialog('join')}>
          <Icon name="compass" size={24} />
        </button>
      </div>
      {dialog === 'create' && <CreateGuildDialog onClose={() => setDialog(null)} />}
      {dialog === 'join' && <JoinGuildDialog onClose={() => setDialog(null)} />}
    </nav>
  );
}
