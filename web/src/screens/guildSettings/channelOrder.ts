// Reordering channels, by dragging or with "move up / move down": the new positions to send to
// `PATCH /api/guilds/{id}/channels`. Only the moved item's new siblings are renumbered
// (positions only order siblings: categories among categories, channels among the channels of
// the same kind in the same category), and every entry repeats its category, because an entry
// without one would take the channel out of its category.
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

/**
 * The placements that put `channelId` into category `parentId` (ignored for categories, which
 * have none), just before `beforeId` among the siblings there (null: last); null when that
 * changes nothing. Every move, dragged or by button, goes through here.
 */
export function placeChannel(channels: Channel[], channelId: Snowflake, parentId: Snowflake | null, beforeId: Snowflake | null): Placement[] | null {
  const channel = channels.find((c) => c.id === channelId);
  if (!channel) return null;
  const parent = channel.kind === 'category' ? null : parentId;
  const oldParent = shownParent(channels, channel);
  const current =
    channel.kind === 'category'
      ? siblingsOf(channels, channel)
      : channelTree(channels)
          .filter((section) => (section.category?.id ?? null) === parent && (section.category !== null || section.kind === channel.kind))
          .flatMap((section) => section.channels)
          .filter((c) => c.kind === channel.kind);
  const order = current.filter((c) => c.id !== channelId);
  const at = beforeId === null ? -1 : order.findIndex((c) => c.id === beforeId);
  order.splice(at < 0 ? order.length : at, 0, channel);
  const unchanged = parent === oldParent && order.every((c, index) => c.id === current[index]?.id);
  return unchanged ? null : order.map((c, index) => ({ id: c.id, position: index, parent_id: parent }));
}

/** The placements that move `channelId` one place up (-1) or down (+1), or null at an end. */
export function moveChannel(channels: Channel[], channelId: Snowflake, direction: -1 | 1): Placement[] | null {
  const channel = channels.find((c) => c.id === channelId);
  if (!channel) return null;
  const siblings = siblingsOf(channels, channel);
  const from = siblings.findIndex((c) => c.id === channelId);
  const to = from + direction;
  if (from < 0 || to < 0 || to >= siblings.length) return null;
  // Up: before the previous sibling. Down: before the one after next (or last).
  const before = direction < 0 ? siblings[to]! : (siblings[to + 1] ?? null);
  return placeChannel(channels, channelId, shownParent(channels, channel), before?.id ?? null);
}

/** Where a dragged row lands relative to the row it is dropped on. */
export type DropEdge = 'before' | 'after' | 'inside';

/**
 * The placements for dropping `draggedId` on `targetId`: a category only among categories; a
 * channel before or after a channel of its kind (taking that channel's category), or inside a
 * category (last there). Null when the drop is not allowed or changes nothing.
 */
export function dropPlacements(channels: Channel[], draggedId: Snowflake, targetId: Snowflake, edge: DropEdge): Placement[] | null {
  const dragged = channels.find((c) => c.id === draggedId);
  const target = channels.find((c) => c.id === targetId);
  if (!dragged || !target || dragged.id === target.id) return null;
  if (dragged.kind === 'category' || edge === 'inside') {
    if (target.kind !== 'category') return null;
    if (dragged.kind !== 'category') return placeChannel(channels, draggedId, target.id, null);
  } else if (target.kind !== dragged.kind) {
    return null;
  }
  const before = edge === 'before' ? target.id : idAfter(siblingsOf(channels, target), target, draggedId);
  return placeChannel(channels, draggedId, shownParent(channels, target), before);
}

/** The first of `siblings` after `target`, other than `skip`; null when there is none. */
function idAfter(siblings: Channel[], target: Channel, skip: Snowflake): Snowflake | null {
  return siblings.slice(siblings.indexOf(target) + 1).find((c) => c.id !== skip)?.id ?? null;
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
