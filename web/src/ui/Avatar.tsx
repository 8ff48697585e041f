// A round avatar with the person's initial on a colour derived from their id, stable across
// sessions and devices (uploaded pictures come with the uploads issue).
const hues = [210, 340, 150, 30, 270, 190, 0, 95];

function hueFor(id: string): number {
  let hash = 0;
  for (const char of id) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hues[hash % hues.length]!;
}

export function Avatar({ id, name, size = 40, status }: { id: string; name: string; size?: number; status?: string }) {
  const initial = [...name.trim()][0]?.toUpperCase() ?? '?';
  return (
    <span className="avatar" style={{ width: size, height: size, fontSize: size * 0.42, backgroundColor: `hsl(${hueFor(id)} 55% 45%)` }} aria-hidden="true">
      {initial}
      {status && <span className={`avatar-status avatar-status-${status}`} />}
    </span>
  );
}
