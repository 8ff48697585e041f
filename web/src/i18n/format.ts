// Dates and times in the user's language through Intl. Formatters are cached: building one is
// far slower than using it, and a chat formats hundreds of timestamps per screen.
const cache = new Map<string, Intl.DateTimeFormat>();

function formatter(language: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${language}|${JSON.stringify(options)}`;
  let format = cache.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(language, options);
    cache.set(key, format);
  }
  return format;
}

/** "3:07 PM" / "오후 3:07" */
export function formatTime(date: Date, language: string): string {
  return formatter(language, { hour: 'numeric', minute: '2-digit' }).format(date);
}

/** "Tuesday, March 4, 2025" / "2025년 3월 4일 화요일" */
export function formatDay(date: Date, language: string): string {
  return formatter(language, { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' }).format(date);
}

/** The full date and time, for tooltips. */
export function formatDateTime(date: Date, language: string): string {
  return formatter(language, { dateStyle: 'full', timeStyle: 'short' }).format(date);
}

/** Whether two instants fall on the same local calendar day. */
export function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** Whole local calendar days from `date` to `now` (0 today, 1 yesterday). */
export function daysAgo(date: Date, now: Date): number {
  const start = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  return Math.round((start(now) - start(date)) / 86_400_000);
}
