// The guild's usable invites with their uses and expiry; each can be revoked. Admins see
// everyone's, other members their own (the server decides which it returns).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/endpoints';
import { errorMessage } from '../../api/errors';
import type { Invite } from '../../api/types';
import { queryKeys } from '../../chat/queryKeys';
import { formatDateTime } from '../../i18n/format';
import type { SettingsProps } from './GuildSettings';
import { abilities } from './permissions';

export function InviteSettings({ guild, role, members }: SettingsProps) {
  const { t, i18n } = useTranslation();
  const queryClient = useQueryClient();
  const invites = useQuery({ queryKey: queryKeys.invites(guild.id), queryFn: () => api.invites(guild.id), staleTime: 0 });
  const revoke = useMutation({
    mutationFn: (code: string) => api.revokeInvite(code),
    onSuccess: (_nothing, code) =>
      queryClient.setQueryData<Invite[]>(queryKeys.invites(guild.id), (list) => list?.filter((invite) => invite.code !== code)),
  });
  const nameOf = (userId: string) => {
    const user = members?.find((member) => member.user.id === userId)?.user;
    return user ? user.display_name || user.username : userId;
  };
  const list = [...(invites.data ?? [])].sort((a, b) => b.created_at.localeCompare(a.created_at));
  return (
    <section className="settings-block" aria-labelledby="invite-list-title">
      <h3 id="invite-list-title">{t('guildSettings.tabs.invites')}</h3>
      {!abilities(role).manageGuild && <p className="field-hint">{t('guildSettings.invites.ownOnly')}</p>}
      {invites.isPending && <p className="field-hint">{t('app.loading')}</p>}
      {invites.isError && (
        <p className="form-error" role="alert">
          {errorMessage(t, invites.error)}
        </p>
      )}
      {revoke.isError && (
        <p className="form-error" role="alert">
          {errorMessage(t, revoke.error)}
        </p>
      )}
      {invites.isSuccess && list.length === 0 && <p className="field-hint">{t('guildSettings.invites.none')}</p>}
      <ul className="settings-list">
        {list.map((invite) => (
          <li key={invite.code} className="settings-row settings-invite">
            <span className="settings-row-main">
              <code className="invite-code" aria-label={t('guildSettings.invites.code')}>
                {invite.code}
              </code>
              <span className="settings-row-details">
                <span>
                  {t('guildSettings.invites.inviter')}: {nameOf(invite.inviter_id)}
                </span>
                <span>
                  {t('guildSettings.invites.uses')}:{' '}
                  {invite.max_uses
                    ? t('guildSettings.invites.usesOf', { uses: invite.uses, max: invite.max_uses })
                    : t('guildSettings.invites.usesUnlimited', { uses: invite.uses })}
                </span>
                <span>
                  {t('guildSettings.invites.expires')}:{' '}
                  {invite.expires_at ? formatDateTime(new Date(invite.expires_at), i18n.language) : t('guildSettings.invites.never')}
                </span>
              </span>
            </span>
            <button
              type="button"
              className="button button-secondary button-small"
              aria-label={t('guildSettings.invites.revokeLabel', { code: invite.code })}
              disabled={revoke.isPending && revoke.variables === invite.code}
              onClick={() => revoke.mutate(invite.code)}
            >
              {t('guildSettings.invites.revoke')}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
