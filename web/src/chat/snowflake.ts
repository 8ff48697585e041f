// Ids are 64-bit time-ordered numbers sent as decimal strings: comparing them as strings works
// once the lengths are equal, and a longer id is always a larger one.
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function isNewer(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a) return false;
  if (!b) return true;
  return compareIds(a, b) > 0;
}
