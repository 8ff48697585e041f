// A guild's settings, opened from the channel sidebar's header: what each tab offers follows
// the caller's role (owner, admin, member) from the member list. Loaded on demand.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { api } from '../../api/endpoints';
import { errorMessage } from '../../api/errors';
import type { Guild, Member, MemberRole } from '../../api/types';
import { useSession } from '../../auth/session';
import { Dialog } from '../../ui/Dialog';
import { useMembers } from '../shell/useChatQueries';
import { forgetGuild, putGuild } from './cache';
import { ChannelSettings } from './ChannelSettings';
import { ConfirmAction } from './ConfirmAction';
import { InviteSettings } from './InviteSettings';
import { BanSettings, MemberSettings } from './MemberSettings';
import { abilities, roleOf, tabsFor, type SettingsTab } from './permissions';

export interface SettingsProps {
  guild: Guild;
  role: MemberRole;
  members: Member[] | undefined;
}

function Overview({ guild, role, onGone }: SettingsProps & { onGone: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const me = useSession((state) => state.user);
  const can = abilities(role);
  const [name, setName] = useState(guild.name);
  const [confirm, setConfirm] = useState<'leave' | 'delete' | null>(null);
  const [typed, setTyped] = useState('');
  const rename = useMutation({
    mutationFn: () => api.updateGuild(guild.id, { name: name.trim() }),
    onSuccess: (updated) => {
      putGuild(queryClient, updated);
      setName(updated.name);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim() && name.trim() !== guild.name) rename.mutate();
  };
  const gone = () => {
    onGone();
    forgetGuild(queryClient, guild.id);
  };
  return (
    <>
      <form className="form settings-block" onSubmit={submit}>
        <label className="field">
          <span className="field-label">{t('guildSettings.name')}</span>
          <input
            className="input"
            name="guild_name"
            value={name}
            minLength={2}
            maxLength={100}
            required
            readOnly={!can.manageGuild}
            aria-describedby={can.manageGuild ? undefined : 'guild-name-readonly'}
            onChange={(event) => {
              setName(event.target.value);
              rename.reset();
            }}
          />
        </label>
        {!can.manageGuild && (
          <p className="field-hint" id="guild-name-readonly">
            {t('guildSettings.nameReadOnly')}
          </p>
        )}
        {rename.isError && (
          <p className="form-error" role="alert">
            {errorMessage(t, rename.error)}
          </p>
        )}
        {can.manageGuild && (
          <div className="dialog-actions">
            {rename.isSuccess && (
              <span className="saved-note" role="status">
                {t('common.saved')}
              </span>
            )}
            <button
              type="submit"
              className="button button-primary"
              disabled={rename.isPending || [...name.trim()].length < 2 || name.trim() === guild.name}
            >
              {t('common.save')}
            </button>
          </div>
        )}
      </form>
      <section className="settings-block danger-zone" aria-labelledby="guild-danger-zone">
        <h3 id="guild-danger-zone">{t('guildSettings.dangerZone')}</h3>
        {can.leave ? (
          <button type="button" className="button button-danger" onClick={() => setConfirm('leave')}>
            {t('guildSettings.leave')}
          </button>
        ) : (
          <p className="field-hint">{t('guildSettings.ownerCannotLeave')}</p>
        )}
        {can.own && (
          <button
            type="button"
            className="button button-danger"
            onClick={() => {
              setTyped('');
              setConfirm('delete');
            }}
          >
            {t('guildSettings.deleteGuild')}
          </button>
        )}
      </section>
      {confirm === 'leave' && me && (
        <ConfirmAction
          title={t('guildSettings.leaveTitle', { guild: guild.name })}
          description={t('guildSettings.leaveConfirm')}
          confirmLabel={t('guildSettings.leave')}
          action={() => api.removeMember(guild.id, me.id).then(gone)}
          onClose={() => setConfirm(null)}
        />
      )}
      {confirm === 'delete' && (
        <ConfirmAction
          title={t('guildSettings.deleteGuildTitle', { guild: guild.name })}
          description={t('guildSettings.deleteGuildConfirm')}
          confirmLabel={t('guildSettings.deleteGuild')}
          canConfirm={typed.trim() === guild.name.trim()}
          action={() => api.deleteGuild(guild.id).then(gone)}
          onClose={() => setConfirm(null)}
        >
          <label className="field">
            <span className="field-label">{t('guildSettings.deleteGuildTypeName')}</span>
            <input className="input" name="confirm_name" value={typed} autoFocus autoComplete="off" placeholder={guild.name} onChange={(event) => setTyped(event.target.value)} />
          </label>
        </ConfirmAction>
      )}
    </>
  );
}

/** Tabs with the keyboard pattern screen readers expect: one tab stop, arrows move between tabs. */
function TabList({ tabs, current, onSelect, idFor }: { tabs: SettingsTab[]; current: SettingsTab; onSelect: (tab: SettingsTab) => void; idFor: (tab: SettingsTab, part: 'tab' | 'panel') => string }) {
  const { t } = useTranslation();
  const refs = useRef(new Map<SettingsTab, HTMLButtonElement>());
  const onKeyDown = (event: KeyboardEvent) => {
    const index = tabs.indexOf(current);
    const next =
      event.key === 'ArrowRight' || event.key === 'ArrowDown'
        ? tabs[(index + 1) % tabs.length]
        : event.key === 'ArrowLeft' || event.key === 'ArrowUp'
          ? tabs[(index - 1 + tabs.length) % tabs.length]
          : event.key === 'Home'
            ? tabs[0]
            : event.key === 'End'
              ? tabs[tabs.length - 1]
              : undefined;
    if (!next) return;
    event.preventDefault();
    onSelect(next);
    refs.current.get(next)?.focus();
  };
  return (
    <div className="settings-tabs" role="tablist" aria-label={t('guildSettings.sections')} onKeyDown={onKeyDown}>
      {tabs.map((tab) => (
        <button
          key={tab}
          ref={(element) => {
            if (element) refs.current.set(tab, element);
            else refs.current.delete(tab);
          }}
          type="button"
          role="tab"
          id={idFor(tab, 'tab')}
          aria-selected={tab === current}
          aria-controls={idFor(tab, 'panel')}
          tabIndex={tab === current ? 0 : -1}
          className={`settings-tab ${tab === current ? 'settings-tab-active' : ''}`}
          onClick={() => onSelect(tab)}
        >
          {t(`guildSettings.tabs.${tab}`)}
        </button>
      ))}
    </div>
  );
}

export default function GuildSettings({ guild, onClose, initialTab = 'overview' }: { guild: Guild; onClose: () => void; initialTab?: SettingsTab }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const me = useSession((state) => state.user);
  const members = useMembers(guild.id).data;
  const role = roleOf(guild, members, me?.id);
  const tabs = tabsFor(role);
  const [chosen, setChosen] = useState<SettingsTab>(initialTab);
  // A tab the role no longer allows (ownership given away, made a member) falls back to the overview.
  const tab = tabs.includes(chosen) ? chosen : 'overview';
  const baseId = useId();
  const idFor = (which: SettingsTab, part: 'tab' | 'panel') => `${baseId}-${part}-${which}`;
  const props: SettingsProps = { guild, role, members };
  return (
    <Dialog title={t('guildSettings.title', { guild: guild.name })} onClose={onClose} className="guild-settings-dialog">
      <TabList tabs={tabs} current={tab} onSelect={setChosen} idFor={idFor} />
      <div className="settings-panel" role="tabpanel" id={idFor(tab, 'panel')} aria-labelledby={idFor(tab, 'tab')}>
        {tab === 'overview' && (
          <Overview
            {...props}
            onGone={() => {
              onClose();
              navigate('/channels/@me', { replace: true });
            }}
          />
        )}
        {tab === 'channels' && <ChannelSettings {...props} />}
        {tab === 'invites' && <InviteSettings {...props} />}
        {tab === 'members' && <MemberSettings {...props} />}
        {tab === 'bans' && <BanSettings {...props} />}
      </div>
    </Dialog>
  );
}
