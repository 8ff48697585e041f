// The app's one voice client, tied to the gateway: its frames travel over the gateway socket,
// a new gateway session means the server ended the call, and signing out leaves it.
import { api, apiClient } from '../api/endpoints';
import { useSession } from '../auth/session';
import { gateway } from '../gateway/connection';
import { TileQualities } from './videoQuality';
import { VoiceClient, type DeviceChoice } from './VoiceClient';

const devicesKey = 'madang.voiceDevices';

function savedDevices(): DeviceChoice {
  try {
    return JSON.parse(localStorage.getItem(devicesKey) ?? '{}') as DeviceChoice;
  } catch {
    return {};
  }
}

async function iceServers(): Promise<RTCIceServer[]> {
  const { ice_servers: servers } = await api.iceServers();
  return servers.map(({ urls, username, credential }) => ({ urls, username, credential }));
}

export const voice = new VoiceClient({ signal: (frame) => gateway.sendVoice(frame), iceServers, devices: savedDevices() });
/** Remote camera tiles on screen, whose sizes choose the layer the server forwards. */
export const tileQualities = new TileQualities((mid, quality) => voice.setVideoQuality(mid, quality));

gateway.on('voice', (frame) => voice.handleFrame(frame));
// A new session (not a resume) does not own the old session's call: join again.
gateway.on('resync', () => void voice.rejoin());
// The server took this user out of the call (a moderator's disconnect, a kick, the channel
// deleted, or a call started elsewhere). Only a connected call counts: while joining, the
// `channel_id: null` of the call this join moved out of may still be on its way.
gateway.on('dispatch', (dispatch) => {
  if (dispatch.t === 'RESUMED') voice.resumed();
  if (dispatch.t !== 'VOICE_STATE_UPDATE' || dispatch.d.user_id !== useSession.getState().user?.id) return;
  const call = voice.getSnapshot();
  if (call.status === 'connected' && call.guildId === dispatch.d.guild_id && (dispatch.d.channel_id ?? null) !== call.channelId) voice.endedByServer();
});
apiClient.onSession((session) => {
  if (!session) void voice.leave();
});
// A changed network: new ICE candidates through an ICE restart.
window.addEventListener('online', () => voice.restartIce());

let lastDevices = voice.getSnapshot().devices;
voice.subscribe(() => {
  const { devices } = voice.getSnapshot();
  if (devices === lastDevices) return;
  lastDevices = devices;
  localStorage.setItem(devicesKey, JSON.stringify(devices));
});
