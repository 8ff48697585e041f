import { render, screen, within } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import type { VoiceState } from '../../voice/protocol';
import { useVoiceStates } from '../../voice/voiceStates';
import { VoiceChannelUsers } from './VoiceChannelUsers';

const state = (userId: string, flags: Partial<VoiceState> = {}): VoiceState => ({
  guild_id: 'g1',
  channel_id: 'v1',
  user_id: userId,
  self_mute: false,
  self_deaf: false,
  self_video: false,
  self_stream: false,
  server_mute: false,
  speaking: false,
  ...flags,
});

const names: Record<string, string> = { '10': 'Mina', '11': 'Jun', '12': 'Hoon' };

beforeEach(() => useVoiceStates.setState({ byGuild: {}, speaking: {} }));

describe('VoiceChannelUsers', () => {
  it('lists who is in the channel with their flags and who is speaking, in words for screen readers', () => {
    useVoiceStates.getState().replaceGuild('g1', [
      state('10', { self_mute: true }),
      state('11', { self_deaf: true, self_mute: true }),
      state('12', { server_mute: true }),
      { ...state('13'), channel_id: 'other' },
    ]);
    useVoiceStates.getState().setSpeaking({ channel_id: 'v1', user_id: '11', speaking: true });
    render(<VoiceChannelUsers guildId="g1" channelId="v1" channelName="General" nameOf={(id) => names[id] ?? id} />);

    const list = screen.getByRole('list', { name: 'People in General' });
    const rows = within(list).getAllByRole('listitem');
    // Each row: the avatar's initial (hidden from screen readers), the name, the flags' words.
    expect(rows.map((row) => row.textContent)).toEqual(['MMinaMuted', 'JJunMutedDeafened', 'HHoonMuted by a moderator']);
    // Jun is deafened (so muted): a muted person is never shown speaking.
    expect(list.querySelector('.voice-user-speaking')).toBeNull();
  });

  it('shows a ring and says "Speaking" while someone talks', () => {
    useVoiceStates.getState().replaceGuild('g1', [state('10')]);
    useVoiceStates.getState().setSpeaking({ channel_id: 'v1', user_id: '10', speaking: true });
    render(<VoiceChannelUsers guildId="g1" channelId="v1" channelName="General" nameOf={(id) => names[id] ?? id} />);
    const row = screen.getByRole('listitem');
    expect(row.className).toContain('voice-user-speaking');
    expect(row.textContent).toBe('MMinaSpeaking');
  });

  it('renders nothing for an empty channel', () => {
    const { container } = render(<VoiceChannelUsers guildId="g1" channelId="v1" channelName="General" nameOf={(id) => id} />);
    expect(container.innerHTML).toBe('');
  });
});
