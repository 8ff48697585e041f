// Plays everyone's audio while in a call, whichever channel is on screen: one <audio> per
// incoming audio track, silent while deafened, at each person's chosen volume, on the chosen
// speaker where the browser can pick one.
import { useEffect, useRef } from 'react';
import type { RemoteTrack } from '../../voice/VoiceClient';
import { useVoice } from '../../voice/useVoice';
import { useVoicePrefs } from '../../voice/voicePrefs';

/** `setSinkId` picks the output device; Firefox and Safari may lack it. */
type SinkElement = HTMLMediaElement & { setSinkId?: (id: string) => Promise<void> };

function RemoteAudio({ remote, muted, speaker }: { remote: RemoteTrack; muted: boolean; speaker: string | undefined }) {
  const ref = useRef<HTMLAudioElement>(null);
  const volume = useVoicePrefs((prefs) => prefs.volume[remote.userId] ?? 1);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    element.srcObject = new MediaStream([remote.track]);
    void element.play().catch(() => undefined);
    return () => {
      element.srcObject = null;
    };
  }, [remote.track]);
  useEffect(() => {
    if (ref.current) ref.current.volume = volume;
  }, [volume]);
  useEffect(() => {
    const element = ref.current as SinkElement | null;
    if (element?.setSinkId) void element.setSinkId(speaker ?? '').catch(() => undefined);
  }, [speaker]);
  return <audio ref={ref} autoPlay muted={muted} data-user-id={remote.userId} />;
}

export function VoiceAudio() {
  const { remote, selfDeaf, devices } = useVoice();
  return (
    <div className="voice-audio" hidden>
      {remote
        .filter((track) => track.kind === 'audio')
        .map((track) => (
          <RemoteAudio key={track.mid} remote={track} muted={selfDeaf} speaker={devices.speaker} />
        ))}
    </div>
  );
}
