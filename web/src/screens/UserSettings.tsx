// User settings: profile, language, theme, and logging out. Loaded on demand.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { api } from '../api/endpoints';
import { errorMessage } from '../api/errors';
import { useSession } from '../auth/session';
import { applyUserUpdate } from '../chat/users';
import { chooseLanguage, languages, storedLanguage, type Language } from '../i18n';
import { Dialog } from '../ui/Dialog';
import { Icon } from '../ui/Icon';
import { chooseTheme, storedTheme, themes, type Theme } from '../ui/theme';

const languageNames: Record<Language, string> = { ko: '한국어', en: 'English' };

function Profile() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const user = useSession((state) => state.user);
  const [displayName, setDisplayName] = useState(user?.display_name ?? '');
  const save = useMutation({
    mutationFn: () => api.updateMe({ display_name: displayName.trim() || null }),
    onSuccess: (updated) => applyUserUpdate(queryClient, updated),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <section className="settings-section" aria-labelledby="settings-profile">
      <h3 id="settings-profile">{t('settings.profile')}</h3>
      <form className="form" onSubmit={submit}>
        <label className="field">
          <span className="field-label">{t('auth.displayName')}</span>
          <input className="input" name="display_name" value={displayName} maxLength={32} onChange={(event) => setDisplayName(event.target.value)} />
        </label>
        <p className="field-hint">
          {t('auth.username')}: @{user?.username}
        </p>
        {save.isError && (
          <p className="form-error" role="alert">
            {errorMessage(t, save.error)}
          </p>
        )}
        <div className="dialog-actions">
          {save.isSuccess && <span className="saved-note">{t('common.saved')}</span>}
          <button type="submit" className="button button-primary" disabled={save.isPending}>
            {t('common.save')}
          </button>
        </div>
      </form>
    </section>
  );
}

function Appearance() {
  const { t } = useTranslation();
  const [language, setLanguage] = useState<Language | 'browser'>(() => storedLanguage() ?? 'browser');
  const [theme, setTheme] = useState<Theme>(storedTheme);
  const themeLabels: Record<Theme, string> = { system: t('settings.themeSystem'), dark: t('settings.themeDark'), light: t('settings.themeLight') };
  return (
    <section className="settings-section" aria-labelledby="settings-appearance">
      <h3 id="settings-appearance">{t('settings.appearance')}</h3>
      <label className="field">
        <span className="field-label">{t('settings.language')}</span>
        <select
          className="input"
          value={language}
          onChange={(event) => {
            const value = event.target.value as Language | 'browser';
            setLanguage(value);
            chooseLanguage(value === 'browser' ? null : value);
          }}
        >
          <option value="browser">{t('settings.languageBrowser')}</option>
          {languages.map((code) => (
            <option key={code} value={code} lang={code}>
              {languageNames[code]}
            </option>
          ))}
        </select>
      </label>
      <fieldset className="field theme-choice">
        <legend className="field-label">{t('settings.theme')}</legend>
        {themes.map((option) => (
          <label key={option} className={`theme-option theme-option-${option} ${theme === option ? 'theme-option-selected' : ''}`}>
            <input
              type="radio"
              name="theme"
              value={option}
              checked={theme === option}
              onChange={() => {
                setTheme(option);
                chooseTheme(option);
              }}
            />
            <span>{themeLabels[option]}</span>
          </label>
        ))}
      </fieldset>
    </section>
  );
}

export default function UserSettings({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const logout = async () => {
    await api.logout().catch(() => undefined);
    onClose();
    navigate('/login', { replace: true });
  };
  return (
    <Dialog title={t('settings.title')} onClose={onClose} className="settings-dialog">
      <Profile />
      <Appearance />
      <section className="settings-section">
        <button type="button" className="button button-danger" onClick={() => void logout()}>
          <Icon name="logout" size={18} />
          {t('auth.logout')}
        </button>
      </section>
    </Dialog>
  );
}
