import { useLive } from './live';
import { usePending } from './pending';
import { useReadStates } from './readStates';
import { useToasts } from './toasts';
import { useVoiceStates } from '../voice/voiceStates';

/** Forgets everything the chat stores hold about the signed-in account. */
export function resetChatState(): void {
  usePending.setState({ byChannel: {} });
  useReadStates.setState({ byChannel: {}, loaded: false });
  useLive.setState({ presence: {}, typing: {} });
  useToasts.setState({ toasts: [] });
  useVoiceStates.setState({ byGuild: {}, speaking: {} });
}
