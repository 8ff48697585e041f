// The sentence for a voice failure: the server's error codes share the REST translations, the
// client's own (`VoiceFailure`) have theirs under `voice.failures`.
import type { TFunction } from 'i18next';
import { en } from '../i18n/en';
import { VoiceFailure } from './VoiceClient';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
/** Fails to type-check when a client-side failure has no sentence. */
export type EveryVoiceFailureTranslated = Assert<Same<keyof typeof en.voice.failures, (typeof VoiceFailure)[keyof typeof VoiceFailure]>>;

export function voiceErrorMessage(t: TFunction, code: string): string {
  if (Object.hasOwn(en.voice.failures, code)) return t(`voice.failures.${code as keyof typeof en.voice.failures}`);
  if (Object.hasOwn(en.errors.codes, code)) return t(`errors.codes.${code as keyof typeof en.errors.codes}`);
  return t('errors.generic');
}
