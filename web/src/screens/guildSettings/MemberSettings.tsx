// Moderation: kick and ban the members you outrank, lift bans; the owner also makes and
// unmakes admins and can hand the guild to someone else.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/endpoints';
import { errorMessage } from '../../api/errors';
import type { Ban, Member } from '../../api/types';
import { useSession } from '../../auth/session';
import { queryKeys } from '../../chat/queryKeys';
import { formatDateTime } from '../../i18n/format';
import { Avatar } from '../../ui/Avatar';
import { dropMember, putGuild, putMember } from './cache';
import { ConfirmAction } from './ConfirmAction';
import type { SettingsProps } from './GuildSettings';
import { abilities, outranks, sortMembers } from './permissions';

type Pending = { kind: 'kick' | 'ban' | 'transfer'; member: Member };

const displayName = (member: Pick<Member, 'user'>) => member.user.display_name || member.user.username;

export function MemberSettings({ guild, role, members }: SettingsProps) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const meId = useSession((state) => state.user?.id);
  const can = abilities(role);
  const [filter, setFilter] = useState('');
  const [pending, setPending] = useState<Pending | null>(null);
  const [reason, setReason] = useState('');
  const setRole = useMutation({
    mutationFn: ({ member, admin }: { member: Member; admin: boolean }) => api.updateMember(guild.id, member.user.id, { role: admin ? 'admin' : 'member' }),
    onSuccess: (updated) => putMember(queryClient, guild.id, updated),
  });
  const needle = filter.trim().toLowerCase();
  const shown = sortMembers(members ?? []).filter(
    (member) => !needle || member.user.username.toLowerCase().includes(needle) || (member.user.display_name ?? '').toLowerCase().includes(needle),
  );
  const name = pending ? displayName(pending.member) : '';
  return (
    <section className="settings-block" aria-labelledby="member-list-title">
      <h3 id="member-list-title">{t('guildSettings.tabs.members')}</h3>
      <label className="field">
        <span className="field-label">{t('guildSettings.members.filter')}</span>
        <input className="input" type="search" name="member_filter" value={filter} onChange={(event) => setFilter(event.target.value)} />
      </label>
      {setRole.isError && (
        <p className="form-error" role="alert">
          {errorMessage(t, setRole.error)}
        </p>
      )}
      {members && shown.length === 0 && <p className="field-hint">{t('guildSettings.members.noMatch')}</p>}
      <ul className="settings-list">
        {shown.map((member) => {
          const memberName = displayName(member);
          const self = member.user.id === meId;
          const moderate = !self && can.moderate && outranks(role, member.role);
          const promote = !self && can.manageAdmins && member.role !== 'owner';
          return (
            <li key={member.user.id} className="settings-row settings-member">
              <Avatar id={member.user.id} name={memberName} size={32} />
              <span className="settings-row-main">
                <span className="settings-row-name">
                  {memberName}
                  {self && <span className="settings-you"> ({t('guildSettings.you')})</span>}
                </span>
                <span className="settings-row-details">
                  <span>@{member.user.username}</span>
                  <span className={`role-badge role-badge-${member.role}`}>{t(`guildSettings.roles.${member.role}`)}</span>
                </span>
              </span>
              {(moderate || promote) && (
                <span className="settings-row-buttons" role="group" aria-label={t('guildSettings.members.actionsFor', { name: memberName })}>
                  {promote && (
                    <button
                      type="button"
                      className="button button-secondary button-small"
                      disabled={setRole.isPending}
                      onClick={() => setRole.mutate({ member, admin: member.role !== 'admin' })}
                    >
                      {member.role === 'admin' ? t('guildSettings.members.removeAdmin') : t('guildSettings.members.makeAdmin')}
                    </button>
                  )}
                  {promote && (
                    <button type="button" className="button button-secondary button-small" onClick={() => setPending({ kind: 'transfer', member })}>
                      {t('guildSettings.members.transfer')}
                    </button>
                  )}
                  {moderate && (
                    <button type="button" className="button button-secondary button-small" onClick={() => setPending({ kind: 'kick', member })}>
                      {t('guildSettings.members.kick')}
                    </button>
                  )}
                  {moderate && (
                    <button
                      type="button"
                      className="button button-danger button-small"
                      onClick={() => {
                        setReason('');
                        setPending({ kind: 'ban', member });
                      }}
                    >
                      {t('guildSettings.members.ban')}
                    </button>
                  )}
                </span>
              )}
            </li>
          );
        })}
      </ul>
      {pending?.kind === 'kick' && (
        <ConfirmAction
          title={t('guildSettings.members.kickTitle', { name })}
          description={t('guildSettings.members.kickConfirm', { name })}
          confirmLabel={t('guildSettings.members.kick')}
          action={() => api.removeMember(guild.id, pending.member.user.id).then(() => dropMember(queryClient, guild.id, pending.member.user.id))}
          onClose={() => setPending(null)}
        />
      )}
      {pending?.kind === 'ban' && (
        <ConfirmAction
          title={t('guildSettings.members.banTitle', { name })}
          description={t('guildSettings.members.banConfirm', { name })}
          confirmLabel={t('guildSettings.members.ban')}
          action={async () => {
            await api.ban(guild.id, pending.member.user.id, { reason: reason.trim() || null });
            dropMember(queryClient, guild.id, pending.member.user.id);
            await queryClient.invalidateQueries({ queryKey: queryKeys.bans(guild.id) });
          }}
          onClose={() => setPending(null)}
        >
          <label className="field">
            <span className="field-label">{t('guildSettings.members.banReason')}</span>
            <textarea className="input" name="ban_reason" rows={3} maxLength={512} value={reason} autoFocus onChange={(event) => setReason(event.target.value)} />
          </label>
        </ConfirmAction>
      )}
      {pending?.kind === 'transfer' && (
        <ConfirmAction
          title={t('guildSettings.members.transferTitle', { name })}
          description={t('guildSettings.members.transferConfirm', { name, guild: guild.name })}
          confirmLabel={t('guildSettings.members.transfer')}
          action={async () => {
            putGuild(queryClient, await api.updateGuild(guild.id, { owner_id: pending.member.user.id }));
            // The old owner became an admin and the new one the owner: both rows changed.
            await queryClient.invalidateQueries({ queryKey: queryKeys.members(guild.id) });
          }}
          onClose={() => setPending(null)}
        />
      )}
    </section>
  );
}

export function BanSettings({ guild }: SettingsProps) {
  const { t, i18n } = useTranslation();
  const queryClient = useQueryClient();
  const bans = useQuery({ queryKey: queryKeys.bans(guild.id), queryFn: () => api.allBans(guild.id), staleTime: 0 });
  const unban = useMutation({
    mutationFn: (userId: string) => api.unban(guild.id, userId),
    onSuccess: (_nothing, userId) => queryClient.setQueryData<Ban[]>(queryKeys.bans(guild.id), (list) => list?.filter((ban) => ban.user.id !== userId)),
  });
  return (
    <section className="settings-block" aria-labelledby="ban-list-title">
      <h3 id="ban-list-title">{t('guildSettings.tabs.bans')}</h3>
      {bans.isPending && <p className="field-hint">{t('app.loading')}</p>}
      {bans.isError && (
        <p className="form-error" role="alert">
          {errorMessage(t, bans.error)}
        </p>
      )}
      {unban.isError && (
        <p className="form-error" role="alert">
          {errorMessage(t, unban.error)}
        </p>
      )}
      {bans.isSuccess && bans.data.length === 0 && <p className="field-hint">{t('guildSettings.bans.none')}</p>}
      <ul className="settings-list">
        {bans.data?.map((ban) => {
          const name = displayName(ban);
          return (
            <li key={ban.user.id} className="settings-row settings-ban">
              <Avatar id={ban.user.id} name={name} size={32} />
              <span className="settings-row-main">
                <span className="settings-row-name">{name}</span>
                <span className="settings-row-details">
                  <span>@{ban.user.username}</span>
                  <span>{t('guildSettings.bans.bannedOn', { date: formatDateTime(new Date(ban.created_at), i18n.language) })}</span>
                </span>
                <span className="settings-ban-reason">{ban.reason || t('guildSettings.bans.noReason')}</span>
              </span>
              <button
                type="button"
                className="button button-secondary button-small"
                aria-label={t('guildSettings.bans.unbanLabel', { name })}
                disabled={unban.isPending && unban.variables === ban.user.id}
                onClick={() => unban.mutate(ban.user.id)}
              >
                {t('guildSettings.bans.unban')}
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
