// Creating a guild, joining one by invite, and inviting people to one.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { api } from '../../api/endpoints';
import { errorMessage } from '../../api/errors';
import type { Guild } from '../../api/types';
import { useSession } from '../../auth/session';
import { queryKeys } from '../../chat/queryKeys';
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
      navigate(`/channels/${guild.id}`);
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
          <input className="input" name="name" value={name} maxLength={100} required autoFocus onChange={(e) => setName(e.target.value)} />
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
          <button type="submit" className="button button-primary" disabled={create.isPending || !name.trim()}>
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

export function InviteDialog({ guild, onClose }: { guild: Guild; onClose: () => void }) {
  const { t } = useTranslation();
  const [copied, setCopied] = useState(false);
  const invite = useMutation({ mutationFn: () => api.createInvite(guild.id, {}) });
  const { mutate } = invite;
  useEffect(() => mutate(), [mutate]);
  const link = invite.data ? `${location.origin}/invite/${invite.data.code}` : '';
  return (
    <Dialog title={t('guilds.invitePeople')} description={t('guilds.inviteCreated')} onClose={onClose}>
      <label className="field">
        <span className="field-label">{t('guilds.inviteLink')}</span>
        <span className="copy-row">
          <input className="input" readOnly value={invite.isPending ? t('app.loading') : link} onFocus={(event) => event.target.select()} />
          <button
            type="button"
            className="button button-primary"
            disabled={!link}
            onClick={() => {
              void navigator.clipboard?.writeText(link).then(() => setCopied(true));
            }}
          >
            {copied ? t('common.copied') : t('common.copy')}
          </button>
        </span>
      </label>
      {invite.isError && (
        <p className="form-error" role="alert">
          {errorMessage(t, invite.error)}
        </p>
      )}
    </Dialog>
  );
}
