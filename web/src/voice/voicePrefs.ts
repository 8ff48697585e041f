// How loud each person plays and whose video is hidden: choices of this browser only, which
// no one else sees.
import { create } from 'zustand';
import type { Snowflake } from '../api/types';

interface VoicePrefs {
  /** user → playback volume, 0–1 (1 when unset). */
  volume: Record<Snowflake, number>;
  hiddenVideo: Record<Snowflake, boolean>;
  setVolume: (userId: Snowflake, volume: number) => void;
  toggleVideo: (userId: Snowflake) => void;
}

export const useVoicePrefs = create<VoicePrefs>()((set) => ({
  volume: {},
  hiddenVideo: {},
  setVolume: (userId, volume) => set((prefs) => ({ volume: { ...prefs.volume, [userId]: volume } })),
  toggleVideo: (userId) => set((prefs) => ({ hiddenVideo: { ...prefs.hiddenVideo, [userId]: !prefs.hiddenVideo[userId] } })),
}));
