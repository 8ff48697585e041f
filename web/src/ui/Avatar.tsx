// A round avatar with the person's initial on a colour derived from their id, stable across
// sessions and devices (uploaded pictures come with the uploads issue); guilds get the initials
// of their name's words, as Discord shows a server without an icon.
// Hue and lightness pairs: each keeps white initials at a contrast of at least 4.8:1 (WCAG AA),
// so greens and cyans are darker than blues and reds.
const colours: readonly (readonly [hue: number, lightness: number])[] = [
  [210, 45],
  [340, 45],
  [150, 32],
  [30, 39],
  [270, 45],
  [190, 35],
  [0, 45],
  [95, 32],
];

/** The background colour of a person's or guild's avatar, stable for its id. */
export function colourFor(id: string): string {
  let hash = 0;
  for (const char of id) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  const [hue, lightness] = colours[hash % colours.length]!;
  return `hsl(${hue} 55% ${lightness}%)`;
}

/** "Study group" → "SG", "마당 개발" → "마개"; at most three letters. */
export function guildInitials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const initials = words.map((word) => [...word][0]!.toUpperCase()).join('');
  return [...initials].slice(0, 3).join('') || '?';
}

export function Avatar({ id, name, size = 40, status }: { id: string; name: string; size?: number; status?: string }) {
  const initial = [...name.trim()][0]?.toUpperCase() ?? '?';
  return (
    <span className="avatar" style={{ width: size, height: size, fontSize: size * 0.42, backgroundColor: colourFor(id) }} aria-hidden="true">
      {initial}
      {status && <span className={`avatar-status avatar-status-${status}`} />}
    </span>
  );
}

export function GuildIcon({ id, name, size = 48 }: { id: string; name: string; size?: number }) {
  const initials = guildInitials(name);
  const scale = initials.length === 1 ? 0.42 : initials.length === 2 ? 0.36 : 0.3;
  return (
    <span
      className="avatar guild-icon"
      style={{ width: size, height: size, fontSize: Math.round(size * scale), backgroundColor: colourFor(id) }}
      aria-hidden="true"
    >
      {initials}
    </span>
  );
}
