// The app's one voice client, tied to the gateway: its frames travel over the gateway socket,
// a new gateway session means the server ended the call, and signing out leaves it.
import { apiClient } from '../api/endpoints';
import { gateway } from '../gateway/connection';
import type { IceServersResponse } from './protocol';
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
  const response = await apiClient.request<IceServersResponse>('GET', '/api/voice/ice-servers');
  return response.ice_servers.map(({ urls, username, credential }) => ({
    urls,
    ...(username ? { username } : {}),
    ...(credential ? { credential } : {}),
  }));
}

export const voice = new VoiceClient({ signal: (frame) => gateway.sendVoice(frame), iceServers, devices: savedDevices() });

gateway.on('voice', (frame) => voice.handleFrame(frame));
// A new session (not a resume): the server ended the old session's call with it.
gateway.on('resync', () => voice.endedByServer());
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
