// `npm run bench` (and `make bench-web`): what the web client costs a person's browser.
//   1. First-load JavaScript: the scripts Chromium fetches to show the app to a signed-in
//      person, gzip-compressed (level 9) from web/dist. Goal: ≤ 250 KB.
//   2. Scrolling: a channel with 10,000 messages (three authors, every kind of markdown), read
//      from the newest to the first by wheel scrolling, with Chromium's long-task observer on.
//      Goal: no main-thread task longer than 50 ms.
// A benchmark, not a test: it reports numbers and exits non-zero only when it cannot measure.
// Prints a Markdown table and writes bench/results/web-client.json.
//
// MADANG_BENCH_MESSAGES sets the history length and MADANG_BENCH_RESULTS the results folder
// (the smoke run in `make test` uses a short history and a throwaway folder).
// MADANG_BENCH_CPU_PROFILE=file.cpuprofile records the scroll in a V8 CPU profile (open it in
// Chromium's DevTools; build the client with `npx vite build --minify false` for names).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { browserAvailable, chromiumPath, log, openBrowser, password, startServer, webDir } from './harness.mjs';

const messageCount = Number(process.env.MADANG_BENCH_MESSAGES || 10_000);
const resultsDir = process.env.MADANG_BENCH_RESULTS || join(webDir, '../bench/results');

/** Chat-like variety, so rows differ in height and the markdown renderer does real work. */
const shapes = [
  (i) => `message ${i}: short one`,
  (i) => `message ${i}: **bold**, *italic*, ~~strike~~ and \`inline code\` in one line`,
  (i) => `message ${i}: 오늘 회의록 정리했어요. 다음 주 일정은 https://example.com/schedule 에서 확인해 주세요 🙂`,
  (i) => `message ${i}:\n\`\`\`rust\nfn main() {\n    println!("hello {}", ${i});\n}\n\`\`\``,
  (i) => `message ${i}:\n> quoted reply from earlier\n> over two lines\nand the answer below it`,
  (i) => `message ${i}: ${'a longer paragraph that wraps over several lines in the message view, '.repeat(4)}`,
];

async function api(base, token, method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', origin: base, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? null : response.json();
}

/** Three people, one guild, `messageCount` messages in #general in runs of 1–4 per author. */
async function seed(base) {
  const tag = Date.now().toString(36);
  const people = [];
  for (const name of ['mina', 'jun', 'sora']) {
    const username = `${name}_${tag}`;
    const auth = await api(base, null, 'POST', '/api/auth/register', { email: `${username}@example.com`, username, password, display_name: name });
    people.push({ username, token: auth.access_token });
  }
  const guild = await api(base, people[0].token, 'POST', '/api/guilds', { name: 'Scroll bench' });
  const [general] = await api(base, people[0].token, 'GET', `/api/guilds/${guild.id}/channels`);
  const invite = await api(base, people[0].token, 'POST', `/api/guilds/${guild.id}/invites`, {});
  for (const person of people.slice(1)) await api(base, person.token, 'POST', `/api/invites/${invite.code}`);

  // Authors in runs, so grouping shows; each author posts in order, authors in parallel.
  const authorOf = [];
  for (let i = 0, run = 0; i < messageCount; run++) {
    const length = 1 + (run % 4);
    for (let k = 0; k < length && i < messageCount; k++, i++) authorOf.push(run % people.length);
  }
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < messageCount) {
      const i = next++;
      await api(base, people[authorOf[i]].token, 'POST', `/api/channels/${general.id}/messages`, { content: shapes[i % shapes.length](i + 1) });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  log(`seeded ${messageCount} messages in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { reader: people[0], guild, channel: general };
}

/** The app's scripts a first visit fetches, and their gzip size. */
async function firstLoadJs(page) {
  const scripts = await page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .map((entry) => new URL(entry.name).pathname)
      .filter((path) => path.endsWith('.js')),
  );
  const files = scripts.map((path) => {
    const bytes = readFileSync(join(webDir, 'dist', path));
    return { path, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  });
  return { files, gzipBytes: files.reduce((sum, f) => sum + f.gzip, 0), bytes: files.reduce((sum, f) => sum + f.bytes, 0) };
}

async function main() {
  const server = await startServer();
  const browser = await openBrowser('reader');
  try {
    const { reader, guild, channel } = await seed(server.base);
    const { page } = browser;
    await page.goto(`${server.base}/login`);
    await page.locator('input[name=login]').fill(reader.username);
    await page.locator('input[name=password]').fill(password);
    await page.locator('form button[type=submit]').click();
    await page.waitForURL(/\/channels\//);
    const firstLoad = await firstLoadJs(page);

    await page.goto(`${server.base}/channels/${guild.id}/${channel.id}`);
    const newest = `message ${messageCount}:`;
    await page.locator('.message-list .message-content', { hasText: newest }).first().waitFor();

    // From here on, every main-thread task over 50 ms is recorded (that is what Chromium reports).
    await page.evaluate(() => {
      window.__longTasks = [];
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) window.__longTasks.push(entry.duration);
      }).observe({ type: 'longtask' });
    });
    const profiler = process.env.MADANG_BENCH_CPU_PROFILE ? await page.context().newCDPSession(page) : null;
    if (profiler) {
      await profiler.send('Profiler.enable');
      await profiler.send('Profiler.start');
    }
    const list = page.locator('.message-list');
    const box = await list.boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const started = Date.now();
    let wheels = 0;
    const deadline = started + 10 * 60_000;
    // Wheel up a screenful at a time, one step per two frames, until the channel's first row shows.
    while (!(await page.locator('.channel-welcome').isVisible())) {
      if (Date.now() > deadline) throw new Error(`did not reach the first message in 10 minutes (${wheels} wheel steps)`);
      await page.mouse.wheel(0, -box.height);
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
      wheels++;
    }
    // The first message is rendered right under the channel's welcome.
    await page.locator('.message-list .message-content', { hasText: /^message 1: / }).first().waitFor({ state: 'attached' });
    const seconds = (Date.now() - started) / 1000;
    const longTasks = await page.evaluate(() => window.__longTasks);
    if (profiler) {
      const { profile } = await profiler.send('Profiler.stop');
      writeFileSync(process.env.MADANG_BENCH_CPU_PROFILE, JSON.stringify(profile));
    }

    const result = {
      machine: `${process.arch}, Node ${process.version}, Chromium headless (software rendering)`,
      firstLoadJs: firstLoad,
      scroll: {
        messages: messageCount,
        wheelSteps: wheels,
        seconds,
        longTasks: longTasks.length,
        longestTaskMs: longTasks.length ? Math.max(...longTasks) : 0,
      },
    };
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, 'web-client.json'), `${JSON.stringify(result, null, 2)}\n`);
    const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
    console.log(
      [
        '| web client | measured | goal |',
        '|---|---|---|',
        `| first-load JavaScript (gzip -9, ${firstLoad.files.length} files) | ${kb(firstLoad.gzipBytes)} (${kb(firstLoad.bytes)} raw) | ≤ 250 KB |`,
        `| scrolling ${messageCount} messages, newest to first (${wheels} wheel steps, ${seconds.toFixed(1)} s) | ${longTasks.length} tasks over 50 ms; longest ${result.scroll.longestTaskMs.toFixed(0)} ms | none over 50 ms |`,
      ].join('\n'),
    );
  } catch (error) {
    log(`server output:\n${server.output().slice(-3000)}`);
    throw error;
  } finally {
    await browser.close();
    await server.close();
  }
}

if (!browserAvailable()) {
  console.error(`SKIPPED web client benchmark: no Chromium at ${chromiumPath} (apt-get install chromium)`);
  process.exit(process.env.MADANG_TEST_REQUIRE_ALL === '1' ? 1 : 0);
}
await main();
