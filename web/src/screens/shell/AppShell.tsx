// The signed-in app: guild rail, channel sidebar, the open channel and its members. On narrow
// screens the rail and sidebar become a drawer and the member list an overlay.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, useLocation, useParams } from 'react-router';
import type { Guild } from '../../api/types';
import { firstTextChannel } from '../../chat/channelTree';
import { useReadStates, unreadCount } from '../../chat/readStates';
import { Icon } from '../../ui/Icon';
import { ChannelSidebar } from './ChannelSidebar';
import { ConnectionBanner } from './ConnectionBanner';
import { CreateGuildDialog, JoinGuildDialog } from './GuildDialogs';
import { GuildRail } from './GuildRail';
import { MemberList } from './MemberList';
import { MessageView } from './MessageView';
import { VoiceAudio } from '../voice/VoiceAudio';
import { VoiceView } from '../voice/VoiceView';
import { Toasts } from './Toasts';
import { useAllChannels, useChannels, useGuilds, useMembers, useReadStateSync } from './useChatQueries';

const lastGuildKey = 'madang.lastGuild';
const noGuilds: Guild[] = [];

function EmptyHome() {
  const { t } = useTranslation();
  const [dialog, setDialog] = useState<'create' | 'join' | null>(null);
  return (
    <div className="empty-home">
      <span className="brand-mark brand-mark-large" aria-hidden="true">
        마
      </span>
      <h1>{t('guilds.emptyTitle')}</h1>
      <p>{t('guilds.emptyBody')}</p>
      <div className="empty-home-actions">
        <button type="button" className="button button-primary" onClick={() => setDialog('create')}>
          {t('guilds.create')}
        </button>
        <button type="button" className="button button-secondary" onClick={() => setDialog('join')}>
          {t('guilds.join')}
        </button>
      </div>
      {dialog === 'create' && <CreateGuildDialog onClose={() => setDialog(null)} />}
      {dialog === 'join' && <JoinGuildDialog onClose={() => setDialog(null)} />}
    </div>
  );
}

function useMediaQuery(query: string): boolean {
  const [matches, setMatches] = useState(() => window.matchMedia?.(query).matches ?? false);
  useEffect(() => {
    const list = window.matchMedia?.(query);
    if (!list) return;
    const update = () => setMatches(list.matches);
    update();
    list.addEventListener('change', update);
    return () => list.removeEventListener('change', update);
  }, [query]);
  return matches;
}

export function AppShell() {
  const { t } = useTranslation();
  const { guildId: routeGuildId, channelId } = useParams();
  // Redirects are keyed by the location: router updates are transitions, so two quick
  // navigations (a dispatch's redirect, then a dialog's) can skip the render in between, and a
  // <Navigate> left mounted with the same target would never fire again.
  const { key: locationKey } = useLocation();
  const guildId = routeGuildId === '@me' ? undefined : routeGuildId;
  const guilds = useGuilds();
  const channels = useChannels(guildId);
  const members = useMembers(guildId);
  const readStates = useReadStates((state) => state.byChannel);
  useReadStateSync();
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [membersOpen, setMembersOpen] = useState(() => window.matchMedia?.('(min-width: 1100px)').matches ?? true);
  const narrow = useMediaQuery('(max-width: 1099px)');

  useEffect(() => {
    if (guildId) localStorage.setItem(lastGuildKey, guildId);
  }, [guildId]);

  const guildList = guilds.data ?? noGuilds;
  const allChannels = useAllChannels(guildList);
  const guild = guildList.find((candidate) => candidate.id === guildId);
  const channel = channels.data?.find((candidate) => candidate.id === channelId);

  if (!guildId && guilds.data && guildList.length > 0) {
    const remembered = localStorage.getItem(lastGuildKey);
    const target = guildList.find((candidate) => candidate.id === remembered) ?? guildList[0]!;
    return <Navigate key={locationKey} to={`/channels/${target.id}`} replace />;
  }
  if (guildId && guilds.data && !guild) return <Navigate key={locationKey} to="/channels/@me" replace />;
  if (guildId && channels.data && (!channelId || !channel)) {
    const first = firstTextChannel(channels.data);
    if (first && first.id !== channelId) return <Navigate key={locationKey} to={`/channels/${guildId}/${first.id}`} replace />;
  }

  const guildHasUnread = (id: string) => {
    const list = allChannels[guildList.findIndex((candidate) => candidate.id === id)]?.data ?? [];
    return list.some((c) => c.kind === 'text' && c.id !== channelId && unreadCount(readStates[c.id]) > 0);
  };

  return (
    <div className={`app-shell ${drawerOpen ? 'drawer-open' : ''} ${membersOpen && guild ? 'members-open' : ''}`}>
      <a className="skip-link" href="#messages">
        {t('app.skipToContent')}
      </a>
      <div className="app-nav">
        <GuildRail guilds={guildList} hasUnread={guildHasUnread} />
        <ChannelSidebar guild={guild} channels={channels.data ?? []} members={members.data} onNavigate={() => setDrawerOpen(false)} />
      </div>
      <button type="button" className="drawer-scrim" aria-label={t('common.close')} tabIndex={-1} onClick={() => setDrawerOpen(false)} />
      <main className="app-main">
        <ConnectionBanner />
        <header className="channel-header">
          <button
            type="button"
            className="icon-button drawer-toggle"
            aria-label={t('common.menu')}
            aria-expanded={drawerOpen}
            onClick={() => setDrawerOpen((open) => !open)}
          >
            <Icon name="menu" />
          </button>
          {channel && (
            <h1 className="channel-title">
              <Icon name={channel.kind === 'voice' ? 'speaker' : 'hash'} size={22} />
              <span>{channel.name}</span>
            </h1>
          )}
          {guild && (
            <button
              type="button"
              className={`icon-button members-toggle ${membersOpen ? 'icon-button-active' : ''}`}
              aria-label={t('members.toggle')}
              aria-pressed={membersOpen}
              onClick={() => setMembersOpen((open) => !open)}
            >
              <Icon name="users" />
            </button>
          )}
        </header>
        <div className="app-content">
          {guilds.data && guildList.length === 0 ? (
            <EmptyHome />
          ) : channel && guild && channel.kind === 'voice' ? (
            <VoiceView guild={guild} channel={channel} members={members.data} />
          ) : channel ? (
            <MessageView key={channel.id} channel={channel} members={members.data} />
          ) : (
            <div className="list-loading">{guildId && channels.data ? t('channels.none') : t('app.loading')}</div>
          )}
          {guild && membersOpen && (
            <>
              <button type="button" className="members-scrim" aria-label={t('common.close')} tabIndex={-1} onClick={() => setMembersOpen(false)} />
              <MemberList members={members.data} onClose={narrow ? () => setMembersOpen(false) : undefined} />
            </>
          )}
        </div>
      </main>
      <Toasts />
      <VoiceAudio />
    </div>
  );
}
