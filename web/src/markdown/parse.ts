// A small chat-markdown parser (Discord's dialect, minus mentions and spoilers for now) that
// produces a tree of plain data. It never produces HTML: the renderer turns the tree into React
// elements, so the only way markup reaches the page is through the node types below.
import { safeHref } from './url';

export type InlineNode =
  | { type: 'text'; text: string }
  | { type: 'code'; text: string }
  | { type: 'strong' | 'em' | 'strike'; children: InlineNode[] }
  | { type: 'link'; href: string; children: InlineNode[] }
  | { type: 'br' };

export type BlockNode =
  | { type: 'paragraph'; children: InlineNode[] }
  | { type: 'codeBlock'; language: string | null; text: string }
  | { type: 'quote'; children: BlockNode[] };

/** Deeper emphasis than this is shown as text: nobody writes it, and it bounds the recursion. */
const maxDepth = 8;

export function parseMarkdown(source: string): BlockNode[] {
  const blocks: BlockNode[] = [];
  for (const segment of splitCodeFences(source.replace(/\r\n?/g, '\n'))) {
    if (segment.kind === 'code') blocks.push({ type: 'codeBlock', language: segment.language, text: segment.text });
    else blocks.push(...parseLines(segment.text));
  }
  return blocks;
}

type Segment = { kind: 'text'; text: string } | { kind: 'code'; language: string | null; text: string };

/** Cuts out ```fenced``` code blocks; an unclosed fence is ordinary text. */
function splitCodeFences(source: string): Segment[] {
  const segments: Segment[] = [];
  let rest = source;
  for (;;) {
    const open = rest.indexOf('```');
    const close = open === -1 ? -1 : rest.indexOf('```', open + 3);
    if (close === -1) break;
    if (open > 0) segments.push({ kind: 'text', text: trimOneNewline(rest.slice(0, open), 'end') });
    let body = rest.slice(open + 3, close);
    // ```lang\n…``` names a language; a lone word with no newline after it is the code itself.
    const languageLine = /^([A-Za-z0-9_+.#-]{1,32})\n/.exec(body);
    const language = languageLine ? languageLine[1]! : null;
    if (languageLine) body = body.slice(languageLine[0].length);
    body = trimOneNewline(trimOneNewline(body, 'start'), 'end');
    if (body.trim() !== '') segments.push({ kind: 'code', language, text: body });
    rest = trimOneNewline(rest.slice(close + 3), 'start');
  }
  if (rest !== '') segments.push({ kind: 'text', text: rest });
  return segments;
}

function trimOneNewline(text: string, side: 'start' | 'end'): string {
  if (side === 'start') return text.startsWith('\n') ? text.slice(1) : text;
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/** Paragraphs and `> ` quotes; `>>> ` quotes everything after it. */
function parseLines(text: string): BlockNode[] {
  const blocks: BlockNode[] = [];
  const lines = text.split('\n');
  let paragraph: string[] = [];
  let quote: string[] = [];
  const flushParagraph = () => {
    if (paragraph.length > 0) blocks.push({ type: 'paragraph', children: parseInline(paragraph.join('\n')) });
    paragraph = [];
  };
  const flushQuote = () => {
    if (quote.length > 0) blocks.push({ type: 'quote', children: [{ type: 'paragraph', children: parseInline(quote.join('\n')) }] });
    quote = [];
  };
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index]!;
    const rest = /^>>> ?(.*)$/s.exec(line);
    if (rest) {
      flushParagraph();
      flushQuote();
      quote = [rest[1]!, ...lines.slice(index + 1)];
      flushQuote();
      return blocks;
    }
    const quoted = /^> ?(.*)$/.exec(line);
    if (quoted) {
      flushParagraph();
      quote.push(quoted[1]!);
    } else {
      flushQuote();
      paragraph.push(line);
    }
  }
  flushParagraph();
  flushQuote();
  return blocks;
}

const escapable = /[\\`*_~[\]()<>#>|-]/;
const bareUrl = /^(?:https?:\/\/|mailto:)[^\s<]+/i;

/** Parses inline markup. `allowLinks` is false inside a link's label (links do not nest). */
export function parseInline(text: string, allowLinks = true, depth = 0): InlineNode[] {
  const nodes: InlineNode[] = [];
  let plain = '';
  const pushText = (value: string) => {
    plain += value;
  };
  const pushNode = (node: InlineNode) => {
    if (plain !== '') nodes.push({ type: 'text', text: plain });
    plain = '';
    nodes.push(node);
  };

  let index = 0;
  while (index < text.length) {
    const char = text[index]!;
    const rest = text.slice(index);

    if (char === '\\' && index + 1 < text.length && escapable.test(text[index + 1]!)) {
      pushText(text[index + 1]!);
      index += 2;
      continue;
    }
    if (char === '\n') {
      pushNode({ type: 'br' });
      index += 1;
      continue;
    }
    if (char === '`') {
      const run = /^`+/.exec(rest)![0];
      const close = text.indexOf(run, index + run.length);
      if (close !== -1 && close > index + run.length) {
        const code = text.slice(index + run.length, close);
        pushNode({ type: 'code', text: code.length > 2 && code.startsWith(' ') && code.endsWith(' ') ? code.slice(1, -1) : code });
        index = close + run.length;
        continue;
      }
      pushText(run);
      index += run.length;
      continue;
    }
    if (allowLinks && char === '[') {
      const link = matchLabelledLink(text, index);
      if (link) {
        pushNode({ type: 'link', href: link.href, children: parseInline(link.label, false, depth + 1) });
        index = link.end;
        continue;
      }
    }
    if (allowLinks && char === '<') {
      const close = text.indexOf('>', index);
      const href = close === -1 ? null : safeHref(text.slice(index + 1, close));
      if (href) {
        pushNode({ type: 'link', href, children: [{ type: 'text', text: text.slice(index + 1, close) }] });
        index = close + 1;
        continue;
      }
    }
    if (allowLinks && (char === 'h' || char === 'H' || char === 'm' || char === 'M') && !isWordChar(text[index - 1])) {
      const match = bareUrl.exec(rest);
      if (match) {
        const raw = trimUrlEnd(match[0]);
        const href = safeHref(raw);
        if (href) {
          pushNode({ type: 'link', href, children: [{ type: 'text', text: raw }] });
          index += raw.length;
          continue;
        }
      }
    }
    if (depth < maxDepth && (char === '*' || char === '_' || char === '~')) {
      const emphasis = matchEmphasis(text, index);
      if (emphasis) {
        pushNode({ type: emphasis.type, children: parseInline(emphasis.inner, allowLinks, depth + 1) });
        index = emphasis.end;
        continue;
      }
    }
    pushText(char);
    index += 1;
  }
  if (plain !== '') nodes.push({ type: 'text', text: plain });
  return nodes;
}

function isWordChar(char: string | undefined): boolean {
  return char !== undefined && /[\p{L}\p{N}_]/u.test(char);
}

/** `[label](url)` with a safe url; anything else is not a link. */
function matchLabelledLink(text: string, start: number): { label: string; href: string; end: number } | null {
  let depth = 0;
  let labelEnd = -1;
  for (let index = start; index < text.length; index += 1) {
    const char = text[index];
    if (char === '\\') index += 1;
    else if (char === '[') depth += 1;
    else if (char === ']' && --depth === 0) {
      labelEnd = index;
      break;
    } else if (char === '\n') return null;
  }
  if (labelEnd === -1 || text[labelEnd + 1] !== '(') return null;
  const close = text.indexOf(')', labelEnd + 2);
  if (close === -1) return null;
  const href = safeHref(text.slice(labelEnd + 2, close));
  const label = text.slice(start + 1, labelEnd);
  if (!href || label.trim() === '') return null;
  return { label, href, end: close + 1 };
}

/** Drops trailing punctuation that ends a sentence rather than the URL, and an unbalanced `)`. */
function trimUrlEnd(url: string): string {
  let end = url.length;
  for (;;) {
    const last = url[end - 1];
    if (last !== undefined && '.,:;!?\'"'.includes(last)) end -= 1;
    else if (last === ')' && count(url.slice(0, end), '(') < count(url.slice(0, end), ')')) end -= 1;
    else break;
  }
  return url.slice(0, end);
}

function count(text: string, char: string): number {
  return text.split(char).length - 1;
}

const delimiters = [
  { open: '**', type: 'strong' },
  { open: '~~', type: 'strike' },
  { open: '*', type: 'em' },
  { open: '_', type: 'em' },
] as const;

/**
 * Finds the emphasis that opens at `start`: a delimiter, non-blank content that does not start
 * or end with a space, and the same delimiter closing it. `_` only counts at word boundaries,
 * so snake_case_names stay as they are.
 */
function matchEmphasis(text: string, start: number): { type: 'strong' | 'em' | 'strike'; inner: string; end: number } | null {
  for (const { open, type } of delimiters) {
    if (!text.startsWith(open, start)) continue;
    if (open === '_' && isWordChar(text[start - 1])) continue;
    const from = start + open.length;
    if (from >= text.length || /\s/.test(text[from]!)) continue;
    // `**` that failed as bold is not an italic starting with `*`.
    if (open.length === 1 && text[from] === open) continue;
    let search = from + 1;
    for (;;) {
      let close = text.indexOf(open, search);
      if (close === -1) break;
      // Of a run like `***`, the closing delimiter is its last characters, so `***x***` nests.
      while (text.startsWith(open, close + 1) && text[close + open.length] === open[0]) close += 1;
      const inner = text.slice(from, close);
      const next = text[close + open.length];
      const valid = !/\s/.test(text[close - 1]!) && !(open === '_' && isWordChar(next));
      if (valid && inner.trim() !== '') return { type, inner, end: close + open.length };
      search = close + 1;
    }
  }
  return null;
}

function inlineText(nodes: InlineNode[]): string {
  return nodes.map((node) => (node.type === 'text' || node.type === 'code' ? node.text : node.type === 'br' ? ' ' : inlineText(node.children))).join('');
}

function blockText(block: BlockNode): string {
  if (block.type === 'paragraph') return inlineText(block.children);
  if (block.type === 'codeBlock') return block.text;
  return block.children.map(blockText).join(' ');
}

/**
 * A message as one line of plain text, without markdown syntax: for reply previews, toasts and
 * notifications, where formatting would be noise ("**hi** _you_" → "hi you").
 */
export function plainText(source: string): string {
  return parseMarkdown(source).map(blockText).join(' ').replace(/\s+/g, ' ').trim();
}
