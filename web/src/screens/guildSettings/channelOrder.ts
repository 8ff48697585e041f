// Reordering channels with "move up / move down": the new positions to send to
// `PATCH /api/guilds/{id}/channels`. Only the moved item's siblings are renumbered (positions
// only order siblings: categories among categories, channels among the channels of the same
// kind in the same category), and every entry repeats its category, because an entry without
// one would take the channel out of its category.
import type { Channel, RequestOf, Snowflake } from '../../api/types';
import { channelTree } from '../../chat/channelTree';

export type Placement = RequestOf<'reorder_channels'>[number];

/** The channels that share `channel`'s ordering, in display order. */
export function siblingsOf(channels: Channel[], channel: Channel): Channel[] {
  const sections = channelTree(channels);
  if (channel.kind === 'category') return sections.flatMap((section) => (section.category ? [section.category] : []));
  const section = sections.find((candidate) => candidate.channels.some((c) => c.id === channel.id));
  return (section?.channels ?? []).filter((c) => c.kind === channel.kind);
}

/** The category a channel is shown under (null: none, also when its parent no longer exists). */
export function shownParent(channels: Channel[], channel: Channel): Snowflake | null {
  if (channel.kind === 'category' || !channel.parent_id) return null;
  return channels.some((c) => c.id === channel.parent_id && c.kind === 'category') ? channel.parent_id : null;
}

/** The placements that move `channelId` one place up (-1) or down (+1), or null at an end. */
export function moveChannel(channels: Channel[], channelId: Snowflake, direction: -1 | 1): Placement[] | null {
  const channel = channels.find((c) => c.id === channelId);
  if (!channel) return null;
  const siblings = siblingsOf(channels, channel);
  const from = siblings.findIndex((c) => c.id === channelId);
  const to = from + direction;
  if (from < 0 || to < 0 || to >= siblings.length) return null;
  const order = [...siblings];
  [order[from], order[to]] = [order[to]!, order[from]!];
  const parent = shownParent(channels, channel);
  return order.map((c, index) => ({ id: c.id, position: index, parent_id: parent }));
}

/** The position that puts a channel last among the channels of `kind` in `parentId`. */
export function endPosition(channels: Channel[], kind: Channel['kind'], parentId: Snowflake | null, except?: Snowflake): number {
  const siblings = channels.filter(
    (c) => c.id !== except && c.kind === kind && (kind === 'category' || shownParent(channels, c) === parentId),
  );
  return siblings.reduce((max, c) => Math.max(max, c.position + 1), 0);
}

/** Applies placements to a cached channel list (the server answers with the whole list anyway). */
export function applyPlacements(channels: Channel[], placements: Placement[]): Channel[] {
  const byId = new Map(placements.map((p) => [p.id, p]));
  return channels.map((c) => {
    const placement = byId.get(c.id);
    return placement ? { ...c, position: placement.position, parent_id: placement.parent_id ?? null } : c;
  });
}
