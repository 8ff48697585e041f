// Message content is attacker-controlled. Every payload below is rendered both to a string
// (react-dom/server, parsed back by the DOM parser) and into a live DOM, and the result must hold
// nothing executable: only the elements and attributes the renderer itself writes, and only
// http, https and mailto link targets.
import { describe, expect, it } from 'vitest';
import { renderToStaticMarkup } from 'react-dom/server';
import { render } from '@testing-library/react';
import { Markdown } from './Markdown';

const schemes = ['javascript', 'JaVaScRiPt', 'vbscript', 'data', 'file', 'blob', 'about', 'jar', 'livescript'];

/** Ways people have smuggled `javascript:` past filters. */
const javascriptUrls = [
  'javascript:alert(1)',
  'JAVASCRIPT:alert(1)',
  ' javascript:alert(1)',
  'java\tscript:alert(1)',
  'java\nscript:alert(1)',
  'java\u0000script:alert(1)',
  'javascript&colon;alert(1)',
  '&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)',
  '&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)',
  '&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(1)',
  'javascript%3Aalert(1)',
  '%6A%61%76%61%73%63%72%69%70%74:alert(1)',
  '\u0001javascript:alert(1)',
  '\u00A0javascript:alert(1)',
  'ｊａｖａｓｃｒｉｐｔ:alert(1)',
  'javascript\u200B:alert(1)',
  'jav&#x09;ascript:alert(1)',
  'javascript://example.com/%0Aalert(1)',
  'javascript://https://example.com/%0aalert(1)',
  'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
  'DATA:text/html,<script>alert(1)</script>',
  'data:image/svg+xml,<svg onload=alert(1)>',
  'vbscript:msgbox(1)',
  'VBScript:MsgBox("x")',
  'file:///etc/passwd',
  'blob:https://example.com/uuid',
  'https:javascript:alert(1)',
  'http:/\\/javascript:alert(1)',
  '//evil.example/x',
  '/\\evil.example',
  '\\\\evil.example\\share',
];

const schemePayloads = schemes.flatMap((scheme) => [`[click](${scheme}:alert(1))`, `<${scheme}:alert(1)>`]);

const payloads: string[] = [
  // raw HTML: must come out as text
  '<script>alert(1)</script>',
  '<SCRIPT SRC=//evil.example/x.js></SCRIPT>',
  '<scr<script>ipt>alert(1)</scr</script>ipt>',
  '<img src=x onerror=alert(1)>',
  '<img src="javascript:alert(1)">',
  '<IMG SRC=JaVaScRiPt:alert(1)>',
  '<svg onload=alert(1)>',
  '<svg><script>alert(1)</script></svg>',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
  '<iframe src="javascript:alert(1)"></iframe>',
  '<iframe srcdoc="<script>alert(1)</script>">',
  '<object data="javascript:alert(1)">',
  '<embed src="data:text/html,<script>alert(1)</script>">',
  '<style>@import "https://evil.example/x.css";</style>',
  '<link rel=stylesheet href=https://evil.example/x.css>',
  '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<body onload=alert(1)>',
  '<div style="background:url(javascript:alert(1))">x</div>',
  '<a href="javascript:alert(1)">click</a>',
  '<a href=https://example.com onclick=alert(1)>click</a>',
  '<form action=javascript:alert(1)><button>go</button></form>',
  '<input onfocus=alert(1) autofocus>',
  '<details open ontoggle=alert(1)>',
  '<video><source onerror=alert(1)></video>',
  '<base href="javascript:alert(1)//">',
  '<template><script>alert(1)</script></template>',
  '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
  '<!--<img src=x onerror=alert(1)>-->',
  '<![CDATA[<script>alert(1)</script>]]>',
  '"><script>alert(1)</script>',
  "'><img src=x onerror=alert(1)>",
  '</p><script>alert(1)</script><p>',
  '</code></pre><script>alert(1)</script>',
  // entity and unicode tricks
  '&lt;script&gt;alert(1)&lt;/script&gt;',
  '&#60;script&#62;alert(1)&#60;/script&#62;',
  '\\u003cscript\\u003ealert(1)\\u003c/script\\u003e',
  '＜script＞alert(1)＜/script＞',
  '<scr\u0000ipt>alert(1)</scr\u0000ipt>',
  '\u202Egnp.exe<script>',
  '<img src=x o\u200Bnerror=alert(1)>',
  // markdown links and autolinks carrying HTML or script
  '[<img src=x onerror=alert(1)>](https://example.com)',
  '[click](https://example.com "title" onclick="alert(1)")',
  '[click](https://example.com" onmouseover="alert(1))',
  "[click](https://example.com' onmouseover='alert(1))",
  '[click](https://example.com/"><script>alert(1)</script>)',
  'https://example.com/"><script>alert(1)</script>',
  'https://example.com/<img/src/onerror=alert(1)>',
  '<https://example.com/" onmouseover="alert(1)>',
  '[a](https://example.com)[b](javascript:alert(1))',
  '[[nested](javascript:alert(1))](https://example.com)',
  '[x](<javascript:alert(1)>)',
  '[x]( javascript:alert(1))',
  '[x](https://example.com)(javascript:alert(1))',
  'mailto:a@example.com?body=<script>alert(1)</script>',
  '[mail](mailto:javascript:alert(1))',
  // markdown structure tricks
  '**<script>alert(1)</script>**',
  '*<img src=x onerror=alert(1)>*',
  '~~<iframe src=javascript:alert(1)>~~',
  '`<script>alert(1)</script>`',
  '```html\n<script>alert(1)</script>\n```',
  '```\n</code></pre><img src=x onerror=alert(1)>\n```',
  '> <script>alert(1)</script>',
  '>>> <img src=x onerror=alert(1)>\n<svg onload=alert(1)>',
  '**[x](javascript:alert(1))**',
  '*[x](javascript:alert(1))*',
  '[**x**](javascript:alert(1))',
  '[x](java**script**:alert(1))',
  '[x](java`script`:alert(1))',
  '[x](java\\script:alert(1))',
  '\\<script\\>alert(1)\\</script\\>',
  '`` ` <script> ` ``',
  '*'.repeat(500) + '<script>' + '*'.repeat(500),
  '['.repeat(300) + 'x' + ']'.repeat(300) + '(javascript:alert(1))',
  '> '.repeat(200) + '<img src=x onerror=alert(1)>',
  ...javascriptUrls,
  ...javascriptUrls.map((url) => `[click](${url})`),
  ...javascriptUrls.map((url) => `<${url}>`),
  ...schemePayloads,
];

const allowedElements = new Set(['DIV', 'P', 'BR', 'STRONG', 'EM', 'DEL', 'CODE', 'PRE', 'BLOCKQUOTE', 'A']);
const allowedAttributes = new Set(['class', 'href', 'target', 'rel']);

/** Every reason the rendered tree under `root` could run code or load something. */
function violations(root: Element): string[] {
  const found: string[] = [];
  for (const element of root.querySelectorAll('*')) {
    if (!allowedElements.has(element.tagName)) found.push(`element <${element.tagName.toLowerCase()}>`);
    for (const attribute of element.attributes) {
      if (!allowedAttributes.has(attribute.name)) found.push(`attribute ${attribute.name} on <${element.tagName.toLowerCase()}>`);
      if (attribute.name.startsWith('on')) found.push(`event handler ${attribute.name}`);
    }
    if (element.tagName === 'A') {
      const href = element.getAttribute('href') ?? '';
      const protocol = new URL(href, 'https://base.invalid/').protocol;
      if (!/^(https?|mailto):/i.test(href) || !['http:', 'https:', 'mailto:'].includes(protocol)) found.push(`href ${href}`);
      if (element.getAttribute('rel') !== 'noopener noreferrer') found.push('link without rel="noopener noreferrer"');
      if (element.getAttribute('target') !== '_blank') found.push('link without target="_blank"');
    } else if (element.hasAttribute('href')) {
      found.push(`href on <${element.tagName.toLowerCase()}>`);
    }
  }
  return found;
}

describe('markdown XSS corpus', () => {
  it('has at least a hundred distinct payloads', () => {
    expect(new Set(payloads).size).toBeGreaterThanOrEqual(100);
  });

  it.each(payloads.map((payload) => [JSON.stringify(payload).slice(0, 80), payload]))(
    'renders %s as inert content',
    (_label, payload) => {
      const markup = renderToStaticMarkup(<Markdown content={payload} />);
      const parsed = new DOMParser().parseFromString(`<!doctype html><body>${markup}</body>`, 'text/html');
      expect(violations(parsed.body)).toEqual([]);
      expect(markup).not.toMatch(/<(script|style|iframe|object|embed|svg|img|math|form|input|base|meta|link)\b/i);

      const { container, unmount } = render(<Markdown content={payload} />);
      expect(violations(container)).toEqual([]);
      unmount();
    },
  );

  it('has a checker that catches what it looks for', () => {
    const hostile = new DOMParser().parseFromString(
      '<body><a href="javascript:alert(1)">x</a><img src=x onerror="alert(1)"><a href="https://example.com">no rel</a></body>',
      'text/html',
    );
    expect(violations(hostile.body)).toEqual([
      'href javascript:alert(1)',
      'link without rel="noopener noreferrer"',
      'link without target="_blank"',
      'element <img>',
      'attribute src on <img>',
      'attribute onerror on <img>',
      'event handler onerror',
      'link without rel="noopener noreferrer"',
      'link without target="_blank"',
    ]);
  });

  it('keeps the payload readable as text', () => {
    const { container, unmount } = render(<Markdown content="<script>alert(1)</script>" />);
    expect(container.textContent).toBe('<script>alert(1)</script>');
    unmount();
  });
});
