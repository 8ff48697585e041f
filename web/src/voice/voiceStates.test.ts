import { beforeEach, describe, expect, it } from 'vitest';
import type { VoiceState } from './protocol';
import { occupants, useVoiceStates } from './voiceStates';

const state = (userId: string, channelId: string | null, flags: Partial<VoiceState> = {}): VoiceState => ({
  guild_id: '1',
  channel_id: channelId,
  user_id: userId,
  self_mute: false,
  self_deaf: false,
  self_video: false,
  self_stream: false,
  server_mute: false,
  speaking: false,
  ...flags,
});

beforeEach(() => useVoiceStates.setState({ byGuild: {}, speaking: {} }));

describe('voice states', () => {
  it('lists a channel’s occupants from READY, then follows joins, moves, flag changes and leaves', () => {
    const store = useVoiceStates.getState();
    store.replaceGuild('1', [state('30', '5'), state('4', '5'), state('9', '6')]);
    const inFive = () => occupants(useVoiceStates.getState().byGuild, '1', '5').map((s) => s.user_id);
    expect(inFive()).toEqual(['4', '30']);

    store.apply(state('9', '5'));
    expect(inFive()).toEqual(['4', '9', '30']);
    expect(occupants(useVoiceStates.getState().byGuild, '1', '6')).toEqual([]);

    store.apply(state('4', '5', { self_mute: true }));
    expect(occupants(useVoiceStates.getState().byGuild, '1', '5')[0]).toMatchObject({ user_id: '4', self_mute: true });

    store.setSpeaking({ channel_id: '5', user_id: '30', speaking: true });
    store.apply(state('30', null));
    expect(inFive()).toEqual(['4', '9']);
    // Someone who left is not shown speaking when they come back.
    expect(useVoiceStates.getState().speaking['30']).toBe(false);
  });

  it('forgets a guild the user left', () => {
    const store = useVoiceStates.getState();
    store.replaceGuild('1', [state('4', '5')]);
    store.removeGuild('1');
    expect(occupants(useVoiceStates.getState().byGuild, '1', '5')).toEqual([]);
  });
});
