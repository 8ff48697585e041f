import { describe, expect, it } from 'vitest';
import { renderToStaticMarkup } from 'react-dom/server';
import { Markdown } from './Markdown';
import { parseInline, parseMarkdown, plainText } from './parse';
import { safeHref } from './url';

const html = (content: string) => renderToStaticMarkup(<Markdown content={content} />);
/** The markup inside the single paragraph of a one-line message. */
const inline = (content: string) => html(content).replace(/^<div class="md"><p class="md-paragraph">(.*)<\/p><\/div>$/s, '$1');

describe('inline formatting', () => {
  it.each([
    ['**bold**', '<strong>bold</strong>'],
    ['*italic*', '<em>italic</em>'],
    ['_italic_', '<em>italic</em>'],
    ['~~gone~~', '<del>gone</del>'],
    ['`a < b`', '<code class="md-code">a &lt; b</code>'],
    ['``code with ` inside``', '<code class="md-code">code with ` inside</code>'],
    ['***both***', '<strong><em>both</em></strong>'],
    ['**bold *and italic***', '<strong>bold <em>and italic</em></strong>'],
    ['~~**struck bold**~~', '<del><strong>struck bold</strong></del>'],
  ])('%s', (source, expected) => {
    expect(inline(source)).toBe(expected);
  });

  it('leaves delimiters alone when they do not enclose text', () => {
    expect(inline('2 * 3 * 4')).toBe('2 * 3 * 4');
    expect(inline('** not bold **')).toBe('** not bold **');
    expect(inline('a lone * star')).toBe('a lone * star');
    expect(inline('snake_case_name and __init__')).toBe('snake_case_name and __init__');
  });

  it('does not format inside code', () => {
    expect(inline('`**not bold** <b>`')).toBe('<code class="md-code">**not bold** &lt;b&gt;</code>');
  });

  it('honours backslash escapes', () => {
    expect(inline('\\*not italic\\*')).toBe('*not italic*');
    expect(inline('\\`not code\\`')).toBe('`not code`');
  });

  it('keeps line breaks', () => {
    expect(inline('one\ntwo')).toBe('one<br/>two');
  });
});

describe('links', () => {
  const anchor = (href: string, text: string) => `<a class="md-link" href="${href}" target="_blank" rel="noopener noreferrer">${text}</a>`;

  it('links bare web addresses, leaving sentence punctuation outside', () => {
    expect(inline('see https://example.com/a?b=1.')).toBe(`see ${anchor('https://example.com/a?b=1', 'https://example.com/a?b=1')}.`);
    expect(inline('(https://en.wikipedia.org/wiki/Go_(game))')).toBe(
      `(${anchor('https://en.wikipedia.org/wiki/Go_(game)', 'https://en.wikipedia.org/wiki/Go_(game)')})`,
    );
  });

  it('links labelled links and angle-bracket autolinks', () => {
    expect(inline('[the docs](https://example.com/docs)')).toBe(anchor('https://example.com/docs', 'the docs'));
    expect(inline('[**bold** label](http://example.com)')).toBe(anchor('http://example.com/', '<strong>bold</strong> label'));
    expect(inline('<https://example.com>')).toBe(anchor('https://example.com/', 'https://example.com'));
    expect(inline('[write](mailto:team@example.com)')).toBe(anchor('mailto:team@example.com', 'write'));
  });

  it('does not nest links inside link labels', () => {
    expect(inline('[https://a.example](https://b.example)')).toBe(anchor('https://b.example/', 'https://a.example'));
  });

  it('leaves other schemes as text', () => {
    expect(inline('[x](javascript:alert(1))')).toBe('[x](javascript:alert(1))');
    expect(inline('[x](/relative)')).toBe('[x](/relative)');
    expect(inline('ftp://example.com')).toBe('ftp://example.com');
  });

  it('does not link an address glued to a word', () => {
    expect(inline('xhttps://example.com')).toBe('xhttps://example.com');
  });
});

describe('blocks', () => {
  it('renders fenced code blocks verbatim, with or without a language', () => {
    expect(parseMarkdown('```rust\nfn main() {}\n```')).toEqual([{ type: 'codeBlock', language: 'rust', text: 'fn main() {}' }]);
    expect(parseMarkdown('```one line```')).toEqual([{ type: 'codeBlock', language: null, text: 'one line' }]);
    expect(html('before\n```\n**x** <i>\n```\nafter')).toBe(
      '<div class="md"><p class="md-paragraph">before</p><pre class="md-code-block"><code>**x** &lt;i&gt;</code></pre><p class="md-paragraph">after</p></div>',
    );
  });

  it('treats an unclosed fence as text', () => {
    expect(parseMarkdown('```\nno end')).toEqual([
      { type: 'paragraph', children: [{ type: 'text', text: '```' }, { type: 'br' }, { type: 'text', text: 'no end' }] },
    ]);
  });

  it('groups consecutive > lines into one quote', () => {
    expect(html('> first\n> *second*\nafter')).toBe(
      '<div class="md"><blockquote class="md-quote"><p class="md-paragraph">first<br/><em>second</em></p></blockquote><p class="md-paragraph">after</p></div>',
    );
  });

  it('quotes everything after >>>', () => {
    expect(parseMarkdown('intro\n>>> all\nof this')).toEqual([
      { type: 'paragraph', children: [{ type: 'text', text: 'intro' }] },
      {
        type: 'quote',
        children: [{ type: 'paragraph', children: [{ type: 'text', text: 'all' }, { type: 'br' }, { type: 'text', text: 'of this' }] }],
      },
    ]);
  });
});

describe('limits', () => {
  it('stops nesting at a fixed depth and keeps the rest as text', () => {
    const deep = '*'.repeat(40) + 'x' + '*'.repeat(40);
    expect(() => parseInline(deep)).not.toThrow();
    expect(html(deep)).toContain('x');
  });
});

describe('safeHref', () => {
  it.each([
    ['https://example.com', 'https://example.com/'],
    ['HTTP://EXAMPLE.COM/Path', 'http://example.com/Path'],
    ['mailto:a@example.com', 'mailto:a@example.com'],
  ])('accepts %s', (raw, expected) => {
    expect(safeHref(raw)).toBe(expected);
  });

  it.each(['javascript:alert(1)', 'data:text/html,x', 'https:example.com', '//example.com', 'https://exa mple.com', 'https://'])(
    'refuses %s',
    (raw) => {
      expect(safeHref(raw)).toBeNull();
    },
  );
});

describe('plainText', () => {
  it('drops the markdown syntax and keeps the words', () => {
    expect(plainText('Hello **everyone**! Welcome to _Study Group_ ~~chat~~.')).toBe('Hello everyone! Welcome to Study Group chat.');
    expect(plainText('Some `inline code` and a block:\n```rust\nfn main() {}\n```')).toBe('Some inline code and a block: fn main() {}');
    expect(plainText('> a quote\nand a link https://example.com/docs')).toBe('a quote and a link https://example.com/docs');
  });

  it('never turns text into markup', () => {
    expect(plainText('<img src=x onerror=alert(1)>')).toBe('<img src=x onerror=alert(1)>');
  });
});
