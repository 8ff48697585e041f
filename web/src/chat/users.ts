// A user's public profile changed (their own settings, or USER_UPDATE): every cached copy of it
// (message authors, member lists, the session) shows the new name at once, without refetching.
import type { QueryClient } from '@tanstack/react-query';
import type { Member, User } from '../api/types';
import { useSession } from '../auth/session';
import type { MessagePages } from './messageCache';

export function applyUserUpdate(queryClient: QueryClient, user: User): void {
  const profile = (old: User): User => ({ ...old, username: user.username, display_name: user.display_name ?? null });
  queryClient.setQueriesData<MessagePages>({ queryKey: ['channels'] }, (data) => {
    if (!data?.pages) return data;
    if (!data.pages.some((page) => page.some((message) => message.author.id === user.id))) return data;
    return {
      ...data,
      pages: data.pages.map((page) =>
        page.some((message) => message.author.id === user.id)
          ? page.map((message) => (message.author.id === user.id ? { ...message, author: profile(message.author) } : message))
          : page,
      ),
    };
  });
  queryClient.setQueriesData<Member[]>({ queryKey: ['guilds'] }, (data) => {
    if (!Array.isArray(data) || !data.some((entry) => (entry as Partial<Member>).user?.id === user.id)) return data;
    return data.map((member) => (member.user.id === user.id ? { ...member, user: profile(member.user) } : member));
  });
  const session = useSession.getState();
  if (session.user?.id === user.id) session.setUser({ ...session.user, ...user });
}
