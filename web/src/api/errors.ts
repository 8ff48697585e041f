// Turns any failure into a sentence in the user's language: the server's stable error code when
// we have a translation for it, else its HTTP status, else a generic line. The server's own
// `message` is English developer text and is never shown.
import type { TFunction } from 'i18next';
import { en } from '../i18n/en';
import { ApiError, NetworkError } from './client';

type ErrorCode = keyof typeof en.errors.codes;
const statuses = [400, 401, 403, 404, 409, 410, 413, 422, 429] as const;

function isKnownCode(code: string): code is ErrorCode {
  return Object.hasOwn(en.errors.codes, code);
}

export function errorMessage(t: TFunction, error: unknown): string {
  if (error instanceof NetworkError) return t('errors.network');
  if (error instanceof ApiError) {
    if (isKnownCode(error.code)) return t(`errors.codes.${error.code}`);
    const status = statuses.find((known) => known === error.status);
    if (status) return t(`errors.status${status}`);
    if (error.status >= 500) return t('errors.status500');
  }
  return t('errors.generic');
}
