// Real-time toasts for messages in channels the user is not looking at (the seed's "real-time
// toast"). Each toast links to its channel and fades after a while.
import { create } from 'zustand';
import type { Message } from '../api/types';

export const toastLifetimeMs = 6_000;
/** More than this at once is noise; the oldest make way. */
const maxToasts = 3;

interface ToastsState {
  toasts: Message[];
  push: (message: Message) => void;
  dismiss: (messageId: string) => void;
}

export const useToasts = create<ToastsState>()((set) => ({
  toasts: [],
  push: (message) => set((state) => ({ toasts: [...state.toasts, message].slice(-maxToasts) })),
  dismiss: (messageId) => set((state) => ({ toasts: state.toasts.filter((toast) => toast.id !== messageId) })),
}));
