// Applies gateway dispatches to the client's caches: REST queries stay the source of what is
// shown, and the gateway keeps them current without refetching.
import type { QueryClient } from '@tanstack/react-query';
import type { Ban, Channel, Guild, Invite, Member, Snowflake } from '../api/types';
import { useSession } from '../auth/session';
import type { Dispatch, ReadyGuild } from '../gateway/protocol';
import { useLive } from './live';
import { removeMessage, updateMessage, upsertMessage, type MessagePages } from './messageCache';
import { queryKeys } from './queryKeys';
import { useReadStates } from './readStates';
import { settleSent } from './send';
import { useToasts } from './toasts';
import { applyUserUpdate } from './users';
import { useVoiceStates } from '../voice/voiceStates';

export interface DispatchContext {
  /** The channel on screen, whose messages count as read when they arrive. */
  activeChannelId: Snowflake | null;
  now: number;
}

function guildOnly({ channels: _channels, role: _role, presences: _presences, voice_states: _voiceStates, ...guild }: ReadyGuild): Guild {
  return guild;
}

function seedGuild(queryClient: QueryClient, guild: ReadyGuild): void {
  queryClient.setQueryData<Channel[]>(queryKeys.channels(guild.id), guild.channels);
  for (const presence of guild.presences ?? []) useLive.getState().setPresence(presence.user_id, presence.status);
  useVoiceStates.getState().replaceGuild(guild.id, guild.voice_states);
}

const byPosition = (a: Channel, b: Channel) => a.position - b.position;

export function applyDispatch(queryClient: QueryClient, dispatch: Dispatch, context: DispatchContext): void {
  const me = useSession.getState().user;
  switch (dispatch.t) {
    case 'READY': {
      useSession.getState().setUser(dispatch.d.user);
      queryClient.setQueryData<Guild[]>(queryKeys.guilds, dispatch.d.guilds.map(guildOnly));
      for (const guild of dispatch.d.guilds) seedGuild(queryClient, guild);
      useReadStates.getState().replaceAll(dispatch.d.read_states);
      break;
    }
    case 'GUILD_CREATE': {
      const guild = dispatch.d;
      queryClient.setQueryData<Guild[]>(queryKeys.guilds, (guilds = []) => [
        ...guilds.filter((existing) => existing.id !== guild.id),
        guildOnly(guild),
      ]);
      seedGuild(queryClient, guild);
      break;
    }
    case 'GUILD_UPDATE':
      queryClient.setQueryData<Guild[]>(queryKeys.guilds, (guilds) =>
        guilds?.map((guild) => (guild.id === dispatch.d.id ? { ...guild, ...dispatch.d } : guild)),
      );
      break;
    case 'GUILD_DELETE':
      queryClient.setQueryData<Guild[]>(queryKeys.guilds, (guilds) => guilds?.filter((guild) => guild.id !== dispatch.d.id));
      queryClient.removeQueries({ queryKey: ['guilds', dispatch.d.id] });
      useVoiceStates.getState().removeGuild(dispatch.d.id);
      break;
    case 'CHANNEL_CREATE':
    case 'CHANNEL_UPDATE': {
      const channel = dispatch.d;
      queryClient.setQueryData<Channel[]>(queryKeys.channels(channel.guild_id), (channels) =>
        channels ? [...channels.filter((existing) => existing.id !== channel.id), channel].sort(byPosition) : channels,
      );
      break;
    }
    case 'CHANNEL_DELETE':
      queryClient.setQueryData<Channel[]>(queryKeys.channels(dispatch.d.guild_id), (channels) =>
        channels?.filter((channel) => channel.id !== dispatch.d.id),
      );
      queryClient.removeQueries({ queryKey: queryKeys.messages(dispatch.d.id) });
      break;
    case 'MESSAGE_CREATE': {
      const message = dispatch.d;
      const mine = message.author.id === me?.id;
      if (mine) {
        settleSent(queryClient, message);
      } else {
        queryClient.setQueryData<MessagePages>(queryKeys.messages(message.channel_id), (data) => upsertMessage(data, message));
        const looking = message.channel_id === context.activeChannelId && document.visibilityState !== 'hidden';
        useReadStates.getState().noteMessage(message.channel_id, message.id, looking);
        if (!looking) useToasts.getState().push(message);
      }
      useLive.getState().stopTyping(message.channel_id, message.author.id);
      break;
    }
    case 'MESSAGE_UPDATE':
      queryClient.setQueryData<MessagePages>(queryKeys.messages(dispatch.d.channel_id), (data) => updateMessage(data, dispatch.d));
      break;
    case 'MESSAGE_DELETE':
      queryClient.setQueryData<MessagePages>(queryKeys.messages(dispatch.d.channel_id), (data) => removeMessage(data, dispatch.d.id));
      break;
    case 'GUILD_MEMBER_ADD':
    case 'GUILD_MEMBER_UPDATE': {
      const { guild_id: guildId, member } = dispatch.d;
      queryClient.setQueryData<Member[]>(queryKeys.members(guildId), (members) =>
        members ? [...members.filter((existing) => existing.user.id !== member.user.id), member] : members,
      );
      // Other people's new names come this way (USER_UPDATE is only for your own sessions).
      if (dispatch.t === 'GUILD_MEMBER_UPDATE') applyUserUpdate(queryClient, member.user);
      break;
    }
    case 'GUILD_BAN_ADD': {
      const { guild_id: guildId, ban } = dispatch.d;
      queryClient.setQueryData<Ban[]>(queryKeys.bans(guildId), (bans) =>
        bans ? [...bans.filter((existing) => existing.user.id !== ban.user.id), ban] : bans,
      );
      break;
    }
    case 'GUILD_BAN_REMOVE':
      queryClient.setQueryData<Ban[]>(queryKeys.bans(dispatch.d.guild_id), (bans) => bans?.filter((ban) => ban.user.id !== dispatch.d.user_id));
      break;
    case 'INVITE_CREATE': {
      const invite = dispatch.d;
      queryClient.setQueryData<Invite[]>(queryKeys.invites(invite.guild_id), (invites) =>
        invites ? [...invites.filter((existing) => existing.code !== invite.code), invite] : invites,
      );
      break;
    }
    case 'INVITE_DELETE':
      queryClient.setQueryData<Invite[]>(queryKeys.invites(dispatch.d.guild_id), (invites) => invites?.filter((invite) => invite.code !== dispatch.d.code));
      break;
    case 'GUILD_MEMBER_REMOVE':
      queryClient.setQueryData<Member[]>(queryKeys.members(dispatch.d.guild_id), (members) =>
        members?.filter((member) => member.user.id !== dispatch.d.user.id),
      );
      break;
    case 'USER_UPDATE':
      applyUserUpdate(queryClient, dispatch.d);
      break;
    case 'PRESENCE_UPDATE':
      useLive.getState().setPresence(dispatch.d.user_id, dispatch.d.status);
      break;
    case 'TYPING_START':
      if (dispatch.d.user_id !== me?.id) useLive.getState().startTyping(dispatch.d.channel_id, dispatch.d.user_id, context.now);
      break;
    case 'READ_STATE_UPDATE':
      useReadStates.getState().apply(dispatch.d);
      break;
    case 'VOICE_STATE_UPDATE':
      useVoiceStates.getState().apply(dispatch.d);
      break;
    case 'VOICE_SPEAKING':
      useVoiceStates.getState().setSpeaking(dispatch.d);
      break;
    case 'RESUMED':
      break;
  }
}
