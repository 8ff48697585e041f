// Arranges a guild's flat channel list the way the sidebar shows it: channels without a
// category first (text, then voice), then each category by position with its channels.
import type { Channel } from '../api/types';

export interface ChannelSection {
  /** The category, or null for the built-in "text" and "voice" groups of uncategorised channels. */
  category: Channel | null;
  kind: 'text' | 'voice' | 'category';
  channels: Channel[];
}

const byPosition = (a: Channel, b: Channel) => a.position - b.position || a.name.localeCompare(b.name);

export function channelTree(channels: Channel[]): ChannelSection[] {
  const categories = channels.filter((channel) => channel.kind === 'category').sort(byPosition);
  const categoryIds = new Set(categories.map((category) => category.id));
  const loose = channels.filter((channel) => channel.kind !== 'category' && !(channel.parent_id && categoryIds.has(channel.parent_id)));
  const sections: ChannelSection[] = [];
  for (const kind of ['text', 'voice'] as const) {
    const ofKind = loose.filter((channel) => channel.kind === kind).sort(byPosition);
    if (ofKind.length > 0) sections.push({ category: null, kind, channels: ofKind });
  }
  for (const category of categories) {
    const children = channels.filter((channel) => channel.parent_id === category.id && channel.kind !== 'category');
    // Text before voice inside a category, as Discord does.
    children.sort((a, b) => (a.kind === b.kind ? byPosition(a, b) : a.kind === 'text' ? -1 : 1));
    sections.push({ category, kind: 'category', channels: children });
  }
  return sections;
}

/** Where to land when a guild is opened without a channel. */
export function firstTextChannel(channels: Channel[]): Channel | undefined {
  for (const section of channelTree(channels)) {
    const text = section.channels.find((channel) => channel.kind === 'text');
    if (text) return text;
  }
  return undefined;
}
