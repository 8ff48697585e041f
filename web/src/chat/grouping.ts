// Decides how each message row looks: a day separator above the first message of a day, and a
// compact row (no avatar or name) for consecutive messages of one author, as Discord does.
import { sameDay } from '../i18n/format';

/** Messages of one author further apart than this start a new group. */
export const groupWindowMs = 7 * 60 * 1000;

export interface RowShape {
  authorId: string;
  createdAt: string;
  isReply: boolean;
}

export interface RowLayout {
  /** Start of a new calendar day: show a separator above. */
  newDay: boolean;
  /** Continues the previous message's group: no avatar, no name. */
  grouped: boolean;
}

export function rowLayout(previous: RowShape | undefined, current: RowShape): RowLayout {
  if (!previous) return { newDay: true, grouped: false };
  const before = new Date(previous.createdAt);
  const now = new Date(current.createdAt);
  const newDay = !sameDay(before, now);
  const grouped =
    !newDay &&
    !current.isReply &&
    previous.authorId === current.authorId &&
    now.getTime() - before.getTime() < groupWindowMs;
  return { newDay, grouped };
}
