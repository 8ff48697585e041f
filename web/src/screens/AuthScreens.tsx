// Log in and register. Both honour `?next=` so that an invite link survives the detour.
import { useState, type FormEvent, type InputHTMLAttributes, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router';
import { api } from '../api/endpoints';
import { errorMessage } from '../api/errors';
import { useSession } from '../auth/session';

/** Only same-app paths are followed after login, never another site. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/channels/@me';
}

function AuthLayout({ title, subtitle, children }: { title: string; subtitle?: string; children: ReactNode }) {
  const { t } = useTranslation();
  return (
    <main className="auth-screen">
      <div className="auth-card">
        <div className="auth-brand" aria-hidden="true">
          <span className="brand-mark">마</span>
          <span className="brand-name">{t('app.name')}</span>
        </div>
        <h1>{title}</h1>
        {subtitle && <p className="auth-subtitle">{subtitle}</p>}
        {children}
      </div>
    </main>
  );
}

function Field({
  label,
  hint,
  ...input
}: { label: string; hint?: string } & InputHTMLAttributes<HTMLInputElement> & { name: string }) {
  const hintId = `${input.name}-hint`;
  return (
    <label className="field">
      <span className="field-label">
        {label}
        {input.required && <span className="field-required" aria-hidden="true"> *</span>}
      </span>
      <input className="input" aria-describedby={hint ? hintId : undefined} {...input} />
      {hint && (
        <span id={hintId} className="field-hint">
          {hint}
        </span>
      )}
    </label>
  );
}

function useAuthForm(submit: (form: FormData) => Promise<unknown>) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const next = safeNext(params.get('next'));

  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await submit(new FormData(event.currentTarget));
      navigate(next, { replace: true });
    } catch (failure) {
      setError(errorMessage(t, failure));
      setBusy(false);
    }
  };
  return { onSubmit, error, busy, next };
}

function FormError({ error }: { error: string | null }) {
  return error ? (
    <p className="form-error" role="alert">
      {error}
    </p>
  ) : null;
}

const text = (form: FormData, name: string) => String(form.get(name) ?? '');

export function LoginScreen() {
  const { t } = useTranslation();
  const status = useSession((state) => state.status);
  const { onSubmit, error, busy, next } = useAuthForm((form) => api.login({ login: text(form, 'login').trim(), password: text(form, 'password') }));
  if (status === 'signedIn' && !busy) return <Navigate to={next} replace />;
  return (
    <AuthLayout title={t('auth.loginTitle')} subtitle={t('auth.loginSubtitle')}>
      <form className="form" onSubmit={onSubmit} noValidate={false}>
        <Field label={t('auth.login')} name="login" autoComplete="username" required autoFocus />
        <Field label={t('auth.password')} name="password" type="password" autoComplete="current-password" required />
        <FormError error={error} />
        <button className="button button-primary button-block" type="submit" disabled={busy}>
          {t('auth.submitLogin')}
        </button>
      </form>
      <p className="auth-switch">
        {t('auth.needAccount')} <Link to={`/register?next=${encodeURIComponent(next)}`}>{t('auth.goRegister')}</Link>
      </p>
    </AuthLayout>
  );
}

export function RegisterScreen() {
  const { t } = useTranslation();
  const status = useSession((state) => state.status);
  const { onSubmit, error, busy, next } = useAuthForm((form) => {
    const displayName = text(form, 'display_name').trim();
    return api.register({
      email: text(form, 'email').trim(),
      username: text(form, 'username').trim(),
      password: text(form, 'password'),
      ...(displayName ? { display_name: displayName } : {}),
    });
  });
  if (status === 'signedIn' && !busy) return <Navigate to={next} replace />;
  return (
    <AuthLayout title={t('auth.registerTitle')}>
      <form className="form" onSubmit={onSubmit}>
        <Field label={t('auth.email')} name="email" type="email" autoComplete="email" required autoFocus />
        <Field label={t('auth.displayName')} name="display_name" hint={t('auth.displayNameHint')} autoComplete="nickname" maxLength={32} />
        <Field
          label={t('auth.username')}
          name="username"
          hint={t('auth.usernameHint')}
          autoComplete="username"
          required
          minLength={2}
          maxLength={32}
          pattern="[a-z0-9_.]{2,32}"
          autoCapitalize="none"
          spellCheck={false}
        />
        <Field
          label={t('auth.password')}
          name="password"
          type="password"
          hint={t('auth.passwordHint')}
          autoComplete="new-password"
          required
          minLength={12}
          maxLength={128}
        />
        <FormError error={error} />
        <button className="button button-primary button-block" type="submit" disabled={busy}>
          {t('auth.submitRegister')}
        </button>
      </form>
      <p className="auth-switch">
        {t('auth.haveAccount')} <Link to={`/login?next=${encodeURIComponent(next)}`}>{t('auth.goLogin')}</Link>
      </p>
    </AuthLayout>
  );
}
