// Turns any failure into a sentence in the user's language: the server's stable error code (the
// `ErrorCode` enum of its OpenAPI document, every one translated), else its HTTP status, else a
// generic line. The server's own `message` is English developer text and is never shown; only
// its leading field name (`username: …` on `validation_failed`) picks a field-specific hint.
import type { TFunction } from 'i18next';
import { en } from '../i18n/en';
import { ApiError, NetworkError } from './client';
import type { ErrorCode } from './types';

type Field = keyof typeof en.errors.fields;
const statuses = [400, 401, 403, 404, 409, 410, 413, 422, 429] as const;

function isKnownCode(code: string): code is ErrorCode {
  return Object.hasOwn(en.errors.codes, code);
}

/** The field a `validation_failed` message is about (`"password: must be …"` → `password`). */
export function invalidField(message: string): Field | null {
  const field = /^([a-z_]+):/.exec(message)?.[1];
  return field && Object.hasOwn(en.errors.fields, field) ? (field as Field) : null;
}

export function errorMessage(t: TFunction, error: unknown): string {
  if (error instanceof NetworkError) return t('errors.network');
  if (error instanceof ApiError) {
    if (error.code === 'validation_failed') {
      const field = invalidField(error.message);
      if (field) return t(`errors.fields.${field}`);
    }
    if (isKnownCode(error.code)) return t(`errors.codes.${error.code}`);
    const status = statuses.find((known) => known === error.status);
    if (status) return t(`errors.status${status}`);
    if (error.status >= 500) return t('errors.status500');
  }
  return t('errors.generic');
}
