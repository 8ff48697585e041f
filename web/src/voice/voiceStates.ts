// Who is in which voice channel (READY's `voice_states`, then VOICE_STATE_UPDATE) and who is
// speaking right now (VOICE_SPEAKING, best effort): what the sidebar and the call view show.
import { create } from 'zustand';
import type { Snowflake } from '../api/types';
import { compareIds } from '../chat/snowflake';
import type { VoiceSpeaking, VoiceState } from './protocol';

interface VoiceStatesStore {
  /** guild → user → their state; only people in a voice channel are listed. */
  byGuild: Record<Snowflake, Record<Snowflake, VoiceState>>;
  /** user → speaking, for the channel you are in (the server only tells participants). */
  speaking: Record<Snowflake, boolean>;
  /** A guild's occupants as READY or GUILD_CREATE list them. */
  replaceGuild: (guildId: Snowflake, states: VoiceState[]) => void;
  removeGuild: (guildId: Snowflake) => void;
  apply: (state: VoiceState) => void;
  setSpeaking: (update: VoiceSpeaking) => void;
}

export const useVoiceStates = create<VoiceStatesStore>()((set) => ({
  byGuild: {},
  speaking: {},
  replaceGuild: (guildId, states) =>
    set((store) => ({
      byGuild: { ...store.byGuild, [guildId]: Object.fromEntries(states.filter((s) => s.channel_id != null).map((s) => [s.user_id, s])) },
    })),
  removeGuild: (guildId) =>
    set((store) => {
      const { [guildId]: _removed, ...rest } = store.byGuild;
      return { byGuild: rest };
    }),
  apply: (state) =>
    set((store) => {
      const { [state.user_id]: _previous, ...others } = store.byGuild[state.guild_id] ?? {};
      const left = state.channel_id == null;
      const guild = left ? others : { ...others, [state.user_id]: state };
      const speaking = left ? { ...store.speaking, [state.user_id]: false } : store.speaking;
      return { byGuild: { ...store.byGuild, [state.guild_id]: guild }, speaking };
    }),
  setSpeaking: ({ user_id: userId, speaking }) => set((store) => ({ speaking: { ...store.speaking, [userId]: speaking } })),
}));

const none: VoiceState[] = [];

/** The people in one voice channel, in a stable order (by user id, which is join-time ordered). */
export function occupants(byGuild: VoiceStatesStore['byGuild'], guildId: Snowflake, channelId: Snowflake): VoiceState[] {
  const guild = byGuild[guildId];
  if (!guild) return none;
  return Object.values(guild)
    .filter((state) => state.channel_id === channelId)
    .sort((a, b) => compareIds(a.user_id, b.user_id));
}
