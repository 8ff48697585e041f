// /invite/:code — a preview of the guild anyone can see, then joining. A visitor who is not
// signed in goes through login or registration and lands back here.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { ApiError } from '../api/client';
import { api } from '../api/endpoints';
import { errorMessage } from '../api/errors';
import type { Guild } from '../api/types';
import { useSession } from '../auth/session';
import { queryKeys } from '../chat/queryKeys';
import { formatDateTime } from '../i18n/format';
import { GuildIcon } from '../ui/Avatar';

/** Why an invite cannot be previewed: the server says expired, used up or revoked (410), else invalid. */
function previewProblem(t: ReturnType<typeof useTranslation>['t'], error: unknown): string {
  return error instanceof ApiError && error.status === 410 ? errorMessage(t, error) : t('invite.invalid');
}

export function InviteScreen() {
  const { code = '' } = useParams();
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const status = useSession((state) => state.status);
  const preview = useQuery({ queryKey: queryKeys.invite(code), queryFn: () => api.invitePreview(code), retry: false });
  const join = useMutation({
    mutationFn: () => api.acceptInvite(code),
    onSuccess: (guild) => {
      queryClient.setQueryData<Guild[]>(queryKeys.guilds, (guilds) =>
        guilds && !guilds.some((existing) => existing.id === guild.id) ? [...guilds, guild] : guilds,
      );
      void queryClient.invalidateQueries({ queryKey: queryKeys.guilds });
      // The new guild's channels may hold unread messages.
      void queryClient.invalidateQueries({ queryKey: queryKeys.readStates });
      queryClient.removeQueries({ queryKey: queryKeys.invite(code) });
      navigate(`/channels/${guild.id}`, { replace: true });
    },
  });
  const here = encodeURIComponent(`/invite/${code}`);
  const invite = preview.data;
  const inviter = invite ? invite.inviter.display_name || invite.inviter.username : '';

  return (
    <main className="auth-screen">
      <div className="auth-card invite-card">
        {preview.isPending && <p className="invite-loading">{t('app.loading')}</p>}
        {preview.isError && (
          <>
            <span className="brand-mark brand-mark-large" aria-hidden="true">
              마
            </span>
            <h1>{previewProblem(t, preview.error)}</h1>
            <p className="auth-subtitle">{t('invite.invalidHint')}</p>
            <Link className="button button-primary button-block" to="/">
              {t('invite.goHome')}
            </Link>
          </>
        )}
        {invite && (
          <>
            <GuildIcon id={invite.guild.id} name={invite.guild.name} size={80} />
            <p className="invite-title">{t('invite.invitedBy', { name: inviter })}</p>
            <h1>{invite.guild.name}</h1>
            <p className="invite-members">
              <span className="member-count-dot" aria-hidden="true" />
              {t('invite.members', { count: invite.guild.member_count })}
            </p>
            {invite.expires_at && (
              <p className="invite-expiry">{t('invite.expires', { date: formatDateTime(new Date(invite.expires_at), i18n.language) })}</p>
            )}
            {join.isError && (
              <p className="form-error" role="alert">
                {errorMessage(t, join.error)}
              </p>
            )}
            {status === 'signedIn' ? (
              <button className="button button-primary button-block" type="button" disabled={join.isPending} onClick={() => join.mutate()}>
                {t('invite.accept')}
              </button>
            ) : (
              <div className="invite-auth">
                <Link className="button button-primary button-block" to={`/register?next=${here}`}>
                  {t('invite.registerFirst')}
                </Link>
                <Link className="button button-secondary button-block" to={`/login?next=${here}`}>
                  {t('invite.loginFirst')}
                </Link>
              </div>
            )}
          </>
        )}
      </div>
    </main>
  );
}
