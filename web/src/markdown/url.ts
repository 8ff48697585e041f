// The one gate every link passes through. Only web and mail links become clickable; anything
// else (javascript:, data:, vbscript:, file:, relative paths) stays text.

const allowedProtocols = new Set(['http:', 'https:', 'mailto:']);

/** What the raw text must look like before it is even parsed: a scheme we allow, spelled out. */
const allowedPrefix = /^(?:https?:\/\/|mailto:)/i;

/**
 * Returns the normalised URL to put in `href`, or null when the text is not a safe link.
 * The check runs on the URL the browser would actually follow (the WHATWG parser's output),
 * so tricks such as embedded tabs, entity-like text or odd casing cannot slip another scheme
 * past it; the prefix test additionally refuses anything that is not literally one of ours.
 */
export function safeHref(raw: string): string | null {
  if (!allowedPrefix.test(raw)) return null;
  // Whitespace and control characters are stripped or tolerated by the URL parser; a link
  // that contains them is not a link a person typed.
  for (const char of raw) {
    const code = char.codePointAt(0)!;
    if (code <= 0x20 || code === 0x7f || (code >= 0x80 && code <= 0x9f)) return null;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (!allowedProtocols.has(url.protocol)) return null;
  if (url.protocol !== 'mailto:' && url.hostname === '') return null;
  return url.href;
}
