// /invite/:code — a preview of the guild anyone can see, then joining. A visitor who is not
// signed in goes through login or registration and lands back here.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { api } from '../api/endpoints';
import { errorMessage } from '../api/errors';
import type { Guild } from '../api/types';
import { useSession } from '../auth/session';
import { queryKeys } from '../chat/queryKeys';
import { Avatar } from '../ui/Avatar';

export function InviteScreen() {
  const { code = '' } = useParams();
  const { t } = useTranslation();
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
      navigate(`/channels/${guild.id}`, { replace: true });
    },
  });
  const here = encodeURIComponent(`/invite/${code}`);

  return (
    <main className="auth-screen">
      <div className="auth-card invite-card">
        {preview.isPending && <p>{t('app.loading')}</p>}
        {preview.isError && (
          <>
            <h1>{t('invite.invalid')}</h1>
            <Link className="button button-primary button-block" to="/">
              {t('invite.goHome')}
            </Link>
          </>
        )}
        {preview.data && (
          <>
            <Avatar id={preview.data.guild.id} name={preview.data.guild.name} size={80} />
            <p className="invite-title">{t('invite.title')}</p>
            <h1>{preview.data.guild.name}</h1>
            <p className="invite-members">
              <span className="online-dot" aria-hidden="true" />
              {t('invite.members', { count: preview.data.member_count })}
            </p>
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
