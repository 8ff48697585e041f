// Which microphone, camera and speaker the call uses. Device names are only known once the
// page may use the microphone; until then they are numbered.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Dialog } from '../../ui/Dialog';
import { voice } from '../../voice/connection';
import { useVoice } from '../../voice/useVoice';
import type { DeviceChoice } from '../../voice/VoiceClient';

const kinds: { choice: keyof DeviceChoice; device: MediaDeviceKind; label: 'voice.microphone' | 'voice.camera' | 'voice.speaker' }[] = [
  { choice: 'microphone', device: 'audioinput', label: 'voice.microphone' },
  { choice: 'camera', device: 'videoinput', label: 'voice.camera' },
  { choice: 'speaker', device: 'audiooutput', label: 'voice.speaker' },
];

const canPickSpeaker = typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;

export function DeviceSettings({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const { devices: chosen } = useVoice();
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  useEffect(() => {
    const media = navigator.mediaDevices;
    if (!media?.enumerateDevices) return;
    const load = () => void media.enumerateDevices().then(setDevices, () => setDevices([]));
    load();
    media.addEventListener('devicechange', load);
    return () => media.removeEventListener('devicechange', load);
  }, []);
  return (
    <Dialog title={t('voice.devices')} onClose={onClose}>
      <div className="voice-devices">
        {kinds.map(({ choice, device, label }) => {
          const options = devices.filter((candidate) => candidate.kind === device && candidate.deviceId !== 'default' && candidate.deviceId !== '');
          const disabled = choice === 'speaker' && !canPickSpeaker;
          return (
            <label key={choice} className="field">
              <span className="field-label">{t(label)}</span>
              <select
                className="input"
                value={chosen[choice] ?? ''}
                disabled={disabled}
                onChange={(event) => void voice.chooseDevice(choice, event.target.value || undefined)}
              >
                <option value="">{t('voice.systemDefault')}</option>
                {options.map((option, index) => (
                  <option key={option.deviceId} value={option.deviceId}>
                    {option.label || t('voice.deviceFallback', { kind: t(label), number: index + 1 })}
                  </option>
                ))}
              </select>
              {disabled && <span className="field-hint">{t('voice.speakerUnsupported')}</span>}
            </label>
          );
        })}
      </div>
    </Dialog>
  );
}
