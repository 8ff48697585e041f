// Creating a guild, joining one by invite, and inviting people to one.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { api } from '../../api/endpoints';
import { errorMessage } from '../../api/errors';
import type { Guild, RequestOf } from '../../api/types';
import { useSession } from '../../auth/session';
import { queryKeys } from '../../chat/queryKeys';
import { formatDateTime } from '../../i18n/format';
import { Dialog } from '../../ui/Dialog';

export function CreateGuildDialog({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const user = useSession((state) => state.user);
  const [name, setName] = useState(() => t('guilds.defaultName', { name: user?.display_name || user?.username || '' }));
  const create = useMutation({
    mutationFn: () => api.createGuild(name.trim()),
    onSuccess: (guild) => {
      queryClient.setQueryData<Guild[]>(queryKeys.guilds, (guilds = []) =>
        guilds.some((existing) => existing.id === guild.id) ? guilds : [...guilds, guild],
      );
      onClose();
      // The gateway's GUILD_CREATE may have brought the app there already (read the location
      // now: this dialog may have been unmounted by that redirect).
      if (!window.location.pathname.startsWith(`/channels/${guild.id}`)) navigate(`/channels/${guild.id}`);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim()) create.mutate();
  };
  return (
    <Dialog title={t('guilds.createTitle')} description={t('guilds.createHint')} onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <label className="field">
          <span className="field-label">{t('guilds.name')}</span>
          <input className="input" name="name" value={name} minLength={2} maxLength={100} required autoFocus onChange={(e) => setName(e.target.value)} />
        </label>
        {create.isError && (
          <p className="form-error" role="alert">
            {errorMessage(t, create.error)}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="button button-secondary" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="button button-primary" disabled={create.isPending || [...name.trim()].length < 2}>
            {t('common.create')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** The invite code in a pasted link (`https://host/invite/CODE`) or a bare code. */
export function inviteCodeFrom(input: string): string | null {
  const trimmed = input.trim();
  const fromLink = /\/invite\/([A-Za-z0-9_-]+)\/?$/.exec(trimmed);
  if (fromLink) return fromLink[1]!;
  return /^[A-Za-z0-9_-]+$/.test(trimmed) ? trimmed : null;
}

export function JoinGuildDialog({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [value, setValue] = useState('');
  const [invalid, setInvalid] = useState(false);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const code = inviteCodeFrom(value);
    if (!code) {
      setInvalid(true);
      return;
    }
    onClose();
    navigate(`/invite/${code}`);
  };
  return (
    <Dialog title={t('guilds.joinTitle')} description={t('guilds.joinHint')} onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <label className="field">
          <span className="field-label">{t('guilds.inviteField')}</span>
          <input
            className="input"
            name="invite"
            value={value}
            required
            autoFocus
            aria-invalid={invalid}
            placeholder={`${location.origin}/invite/…`}
            onChange={(event) => {
              setValue(event.target.value);
              setInvalid(false);
            }}
          />
        </label>
        {invalid && (
          <p className="form-error" role="alert">
            {t('guilds.inviteInvalid')}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="button button-secondary" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="button button-primary">
            {t('common.join')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Invite lifetimes offered, in seconds (the server allows 60 s to 30 days; null: never). */
export const inviteAges = { m30: 1800, h1: 3600, h6: 21_600, h12: 43_200, d1: 86_400, d7: 604_800, never: null } as const;
type InviteAge = keyof typeof inviteAges;
const inviteUseLimits = [0, 1, 5, 10, 25, 50, 100] as const;

/** The body of the create-invite request for the chosen lifetime and use limit (0: unlimited). */
export function inviteRequest(age: InviteAge, maxUses: number): RequestOf<'create_invite'> {
  const seconds = inviteAges[age];
  return { ...(seconds === null ? {} : { max_age_seconds: seconds }), ...(maxUses > 0 ? { max_uses: maxUses } : {}) };
}

export function InviteDialog({ guild, onClose }: { guild: Guild; onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const [copied, setCopied] = useState(false);
  const [age, setAge] = useState<InviteAge>('d7');
  const [maxUses, setMaxUses] = useState(0);
  const invite = useMutation({ mutationFn: (request: RequestOf<'create_invite'>) => api.createInvite(guild.id, request) });
  const { mutate } = invite;
  // A new link whenever the settings change (an invite's limits are fixed when it is made).
  useEffect(() => {
    setCopied(false);
    mutate(inviteRequest(age, maxUses));
  }, [mutate, age, maxUses]);
  const link = invite.data ? `${location.origin}/invite/${invite.data.code}` : '';
  const expiresAt = invite.data?.expires_at;
  return (
    <Dialog title={t('guilds.invitePeople')} description={t('guilds.inviteCreated', { guild: guild.name })} onClose={onClose} className="invite-dialog">
      <label className="field">
        <span className="field-label">{t('guilds.inviteLink')}</span>
        <span className="copy-row">
          <input className="input" readOnly value={invite.isPending ? t('app.loading') : link} onFocus={(event) => event.target.select()} />
          <button
            type="button"
            className={`button ${copied ? 'button-success' : 'button-primary'} copy-button`}
            disabled={!link || invite.isPending}
            onClick={() => {
              void navigator.clipboard?.writeText(link).then(() => setCopied(true));
            }}
          >
            {copied ? t('common.copied') : t('common.copy')}
          </button>
        </span>
      </label>
      {invite.data && !invite.isPending && (
        <p className="field-hint invite-summary">
          {expiresAt ? t('guilds.inviteExpires', { date: formatDateTime(new Date(expiresAt), i18n.language) }) : t('guilds.inviteNeverExpires')}
        </p>
      )}
      <div className="invite-options">
        <label className="field">
          <span className="field-label">{t('guilds.inviteExpireAfter')}</span>
          <select className="input" value={age} onChange={(event) => setAge(event.target.value as InviteAge)}>
            {(Object.keys(inviteAges) as InviteAge[]).map((key) => (
              <option key={key} value={key}>
                {t(`guilds.inviteAges.${key}`)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="field-label">{t('guilds.inviteMaxUses')}</span>
          <select className="input" value={maxUses} onChange={(event) => setMaxUses(Number(event.target.value))}>
            {inviteUseLimits.map((limit) => (
              <option key={limit} value={limit}>
                {limit === 0 ? t('guilds.inviteNoLimit') : t('guilds.inviteUses', { count: limit })}
              </option>
            ))}
          </select>
        </label>
      </div>
      {invite.isError && (
        <p className="form-error" role="alert">
          {errorMessage(t, invite.error)}
        </p>
      )}
    </Dialog>
  );
}
