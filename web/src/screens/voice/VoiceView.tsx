// A voice channel on screen: everyone's tile (camera, or avatar with a ring while speaking),
// screen shares as tiles of their own, and the call's controls. Opening the channel from the
// sidebar joins it; after leaving, a button joins again.
import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Channel, Guild, Member, MemberRole, Snowflake } from '../../api/types';
import { api } from '../../api/endpoints';
import { errorMessage } from '../../api/errors';
import { useSession } from '../../auth/session';
import { Avatar } from '../../ui/Avatar';
import { Icon } from '../../ui/Icon';
import { tileQualities, voice } from '../../voice/connection';
import { voiceErrorMessage } from '../../voice/errors';
import type { VoiceState } from '../../voice/protocol';
import { useVoice } from '../../voice/useVoice';
import { useVoicePrefs } from '../../voice/voicePrefs';
import { occupants, useVoiceStates } from '../../voice/voiceStates';
import { abilities, outranks, roleOf } from '../guildSettings/permissions';
import { DeviceSettings } from './DeviceSettings';
import { VoiceFlags } from './VoiceFlags';

/** `mid`: a remote camera's m-line; its tile's size then chooses the layer the server sends. */
function Video({ stream, track, mid, mirrored, label }: { stream?: MediaStream | null; track?: MediaStreamTrack; mid?: string; mirrored?: boolean; label: string }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const element = ref.current;
    if (!element || mid === undefined) return;
    return tileQualities.observe(element, mid);
  }, [mid]);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    element.srcObject = stream ?? (track ? new MediaStream([track]) : null);
    void element.play().catch(() => undefined);
    return () => {
      element.srcObject = null;
    };
  }, [stream, track]);
  // Audio plays through <VoiceAudio>; the video element itself is always silent.
  return <video ref={ref} className={`voice-video ${mirrored ? 'voice-video-mirrored' : ''}`} autoPlay playsInline muted aria-label={label} />;
}

interface Participant {
  userId: Snowflake;
  name: string;
  state: Pick<VoiceState, 'self_mute' | 'self_deaf' | 'server_mute'>;
  role: MemberRole;
}

function TileMenu({ guildId, participant, canModerate, onClose }: { guildId: Snowflake; participant: Participant; canModerate: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  const volume = useVoicePrefs((prefs) => prefs.volume[participant.userId] ?? 1);
  const hidden = useVoicePrefs((prefs) => Boolean(prefs.hiddenVideo[participant.userId]));
  const { setVolume, toggleVideo } = useVoicePrefs.getState();
  const [error, setError] = useState<string | null>(null);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.querySelector<HTMLElement>('input, button')?.focus();
  }, []);
  const moderate = (action: () => Promise<unknown>) => {
    setError(null);
    action().then(onClose, (failure: unknown) => setError(errorMessage(t, failure)));
  };
  return (
    <div
      ref={ref}
      className="voice-tile-menu"
      role="group"
      aria-label={t('voice.tileMenu', { name: participant.name })}
      onKeyDown={(event) => {
        if (event.key === 'Escape') {
          event.stopPropagation();
          onClose();
        }
      }}
    >
      <label className="voice-volume">
        <span>{t('voice.volume')}</span>
        <input type="range" min={0} max={100} step={5} value={Math.round(volume * 100)} onChange={(event) => setVolume(participant.userId, Number(event.target.value) / 100)} />
      </label>
      <button type="button" className="button button-secondary" aria-pressed={hidden} onClick={() => toggleVideo(participant.userId)}>
        {hidden ? t('voice.showVideo') : t('voice.hideVideo')}
      </button>
      {canModerate && (
        <>
          <button type="button" className="button button-secondary" onClick={() => moderate(() => api.updateVoiceState(guildId, participant.userId, { server_mute: !participant.state.server_mute }))}>
            {participant.state.server_mute ? t('voice.serverUnmute') : t('voice.serverMute')}
          </button>
          <button type="button" className="button button-danger" onClick={() => moderate(() => api.disconnectVoice(guildId, participant.userId))}>
            {t('voice.disconnect')}
          </button>
        </>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function ParticipantTile({
  guildId,
  participant,
  camera,
  mine,
  speaking,
  canModerate,
}: {
  guildId: Snowflake;
  participant: Participant;
  camera: { stream?: MediaStream | null; track?: MediaStreamTrack; mid?: string } | null;
  mine: boolean;
  speaking: boolean;
  canModerate: boolean;
}) {
  const { t } = useTranslation();
  const hidden = useVoicePrefs((prefs) => Boolean(prefs.hiddenVideo[participant.userId]));
  const [menuOpen, setMenuOpen] = useState(false);
  const menuButton = useRef<HTMLButtonElement>(null);
  const closeMenu = () => {
    setMenuOpen(false);
    menuButton.current?.focus();
  };
  const label = mine ? t('voice.you', { name: participant.name }) : participant.name;
  const showVideo = camera && !hidden;
  // A hidden video is not sent to this browser at all; showing it again sizes its tile anew.
  const remoteMid = camera?.mid;
  useEffect(() => {
    if (hidden && remoteMid !== undefined) voice.setVideoQuality(remoteMid, 'off');
  }, [hidden, remoteMid]);
  return (
    <li className={`voice-tile ${speaking ? 'voice-tile-speaking' : ''}`} data-user-id={participant.userId} data-kind="participant" aria-label={label}>
      {showVideo ? (
        <Video {...camera} mirrored={mine} label={label} />
      ) : (
        <span className="voice-tile-avatar">
          <Avatar id={participant.userId} name={participant.name} size={72} />
        </span>
      )}
      <span className="voice-tile-name">
        {label}
        {speaking && <span className="visually-hidden">{t('voice.speaking')}</span>}
        <VoiceFlags state={participant.state} />
      </span>
      {!mine && (
        <>
          <button
            ref={menuButton}
            type="button"
            className="icon-button voice-tile-more"
            aria-label={t('voice.tileMenu', { name: participant.name })}
            aria-expanded={menuOpen}
            onClick={() => setMenuOpen((open) => !open)}
          >
            <Icon name="more" />
          </button>
          {menuOpen && (
            <TileMenu guildId={guildId} participant={participant} canModerate={canModerate} onClose={closeMenu} />
          )}
        </>
      )}
    </li>
  );
}

function ScreenTile({ userId, name, stream, track }: { userId: Snowflake; name: string; stream?: MediaStream | null; track?: MediaStreamTrack }) {
  const { t } = useTranslation();
  const label = t('voice.screenOf', { name });
  return (
    <li className="voice-tile voice-tile-screen" data-user-id={userId} data-kind="screen" aria-label={label}>
      <Video stream={stream} track={track} label={label} />
      <span className="voice-tile-name">{label}</span>
    </li>
  );
}

/** `serverMuted`: a moderator muted you; unmuting yourself is not possible until they lift it. */
function Controls({ serverMuted, onSettings }: { serverMuted: boolean; onSettings: () => void }) {
  const { t } = useTranslation();
  const { selfMute, selfDeaf, camera, screen } = useVoice();
  const canShare = typeof navigator !== 'undefined' && Boolean(navigator.mediaDevices?.getDisplayMedia);
  const micLabel = serverMuted ? t('voice.serverMuted') : selfMute ? t('voice.unmute') : t('voice.mute');
  return (
    <div className="voice-controls" role="group" aria-label={t('voice.controls')}>
      <button
        type="button"
        className={`voice-control ${selfMute || serverMuted ? 'voice-control-off' : ''}`}
        aria-label={micLabel}
        title={micLabel}
        disabled={serverMuted}
        onClick={() => void voice.setMute(!selfMute)}
      >
        <Icon name={selfMute || serverMuted ? 'micOff' : 'mic'} />
      </button>
      <button type="button" className={`voice-control ${selfDeaf ? 'voice-control-off' : ''}`} aria-label={selfDeaf ? t('voice.undeafen') : t('voice.deafen')} title={selfDeaf ? t('voice.undeafen') : t('voice.deafen')} onClick={() => void voice.setDeaf(!selfDeaf)}>
        <Icon name={selfDeaf ? 'headphonesOff' : 'headphones'} />
      </button>
      <button type="button" className={`voice-control ${camera ? 'voice-control-on' : ''}`} aria-label={camera ? t('voice.cameraOff') : t('voice.cameraOn')} title={camera ? t('voice.cameraOff') : t('voice.cameraOn')} onClick={() => void voice.setCamera(!camera)}>
        <Icon name={camera ? 'video' : 'videoOff'} />
      </button>
      {canShare && (
        <button type="button" className={`voice-control ${screen ? 'voice-control-on' : ''}`} aria-label={screen ? t('voice.screenOff') : t('voice.screenOn')} title={screen ? t('voice.screenOff') : t('voice.screenOn')} onClick={() => void voice.setScreen(!screen)}>
          <Icon name="screen" />
        </button>
      )}
      <button type="button" className="voice-control" aria-label={t('voice.devices')} title={t('voice.devices')} aria-haspopup="dialog" onClick={onSettings}>
        <Icon name="gear" />
      </button>
      <button type="button" className="voice-control voice-control-leave" aria-label={t('voice.leave')} title={t('voice.leave')} onClick={() => void voice.leave()}>
        <Icon name="phoneOff" />
      </button>
    </div>
  );
}

const rankless: MemberRole = 'member';

export function VoiceView({ guild, channel, members }: { guild: Guild; channel: Channel; members: Member[] | undefined }) {
  const { t } = useTranslation();
  const snapshot = useVoice();
  const me = useSession((state) => state.user);
  const guildStates = useVoiceStates((store) => store.byGuild[guild.id]);
  const speaking = useVoiceStates((store) => store.speaking);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const here = snapshot.channelId === channel.id && snapshot.status !== 'idle';
  const people = useMemo(() => occupants(guildStates ? { [guild.id]: guildStates } : {}, guild.id, channel.id), [guildStates, guild.id, channel.id]);

  const member = (userId: Snowflake) => members?.find((candidate) => candidate.user.id === userId);
  const nameOf = (userId: Snowflake) => {
    const user = member(userId)?.user ?? (me?.id === userId ? me : undefined);
    return user ? user.display_name || user.username : '…';
  };
  const myRole = roleOf(guild, members, me?.id);

  // Everyone in the channel by the server's word, plus anyone whose media arrived first.
  const userIds = [...new Set([...people.map((state) => state.user_id), ...(here ? snapshot.remote.map((track) => track.userId) : []), ...(here && me ? [me.id] : [])])];
  const participants: Participant[] = userIds.map((userId) => {
    const state = people.find((candidate) => candidate.user_id === userId);
    const mine = userId === me?.id;
    return {
      userId,
      name: nameOf(userId),
      state: mine && here ? { self_mute: snapshot.selfMute, self_deaf: snapshot.selfDeaf, server_mute: state?.server_mute ?? false } : (state ?? { self_mute: false, self_deaf: false, server_mute: false }),
      role: member(userId)?.role ?? rankless,
    };
  });
  const remoteOf = (userId: Snowflake, kind: 'camera' | 'screen') => (here ? snapshot.remote.find((track) => track.userId === userId && track.kind === kind) : undefined);
  const status =
    snapshot.status === 'joining'
      ? t('voice.joining')
      : snapshot.connection === 'disconnected' || snapshot.connection === 'failed'
        ? t('voice.reconnecting')
        : here
          ? t('voice.connected')
          : null;

  return (
    <section className="voice-view" id="messages" aria-label={t('voice.participants', { channel: channel.name })} data-voice-status={here ? snapshot.status : 'idle'}>
      <div className="voice-status" role="status">
        {status}
      </div>
      {snapshot.error && (snapshot.channelId === channel.id || snapshot.status === 'idle') && (
        <p className="voice-error" role="alert">
          {voiceErrorMessage(t, snapshot.error)}
        </p>
      )}
      {participants.length === 0 && <p className="voice-empty">{t('voice.empty')}</p>}
      <ul className="voice-tiles">
        {/* Shared screens first: they are what the call is looking at. */}
        {here && snapshot.screen && me && <ScreenTile userId={me.id} name={nameOf(me.id)} stream={snapshot.screen} />}
        {here &&
          snapshot.remote
            .filter((track) => track.kind === 'screen')
            .map((track) => <ScreenTile key={track.mid} userId={track.userId} name={nameOf(track.userId)} track={track.track} />)}
        {participants.map((participant) => {
          const mine = participant.userId === me?.id;
          const remoteCamera = remoteOf(participant.userId, 'camera');
          const camera = mine && here ? (snapshot.camera ? { stream: snapshot.camera } : null) : remoteCamera ? { track: remoteCamera.track, mid: remoteCamera.mid } : null;
          return (
            <ParticipantTile
              key={participant.userId}
              guildId={guild.id}
              participant={participant}
              camera={camera}
              mine={mine}
              speaking={Boolean(speaking[participant.userId]) && !participant.state.self_mute && !participant.state.server_mute}
              // Admins may act on anyone who does not outrank them (the server checks again).
              canModerate={abilities(myRole).moderate && !outranks(participant.role, myRole)}
            />
          );
        })}
      </ul>
      {here ? (
        <Controls serverMuted={Boolean(me && guildStates?.[me.id]?.server_mute)} onSettings={() => setSettingsOpen(true)} />
      ) : (
        <div className="voice-controls">
          <button type="button" className="button button-primary" onClick={() => void voice.join(guild.id, channel.id)}>
            {t('voice.join')}
          </button>
        </div>
      )}
      {settingsOpen && <DeviceSettings onClose={() => setSettingsOpen(false)} />}
    </section>
  );
}
