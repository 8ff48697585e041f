import { useSyncExternalStore } from 'react';
import { voice } from './connection';
import type { VoiceSnapshot } from './VoiceClient';

/** The call's current state; re-renders when it changes. */
export function useVoice(): VoiceSnapshot {
  return useSyncExternalStore(voice.subscribe, voice.getSnapshot);
}
