// The pieces of the browser end-to-end suite: a real madang server on a fresh data directory,
// one Chromium per user (Debian's, driven by playwright-core), accessibility checks with
// axe-core, screenshots, and the one helper that waits for the other side to see a change.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Debian's Chromium (`MADANG_E2E_CHROMIUM` points elsewhere, e.g. to try the skip). */
export const chromiumPath = process.env.MADANG_E2E_CHROMIUM || '/usr/bin/chromium';
/** The server binary: `MADANG_BIN` (relative to the current directory), else the debug build. */
export const serverBin = process.env.MADANG_BIN ? resolve(process.env.MADANG_BIN) : resolve(webDir, '../target/debug/madang');
export const screenshotDir = resolve(process.env.MADANG_E2E_SCREENSHOTS || join(webDir, 'e2e/screenshots'));

/**
 * How long one side may take to show what the other did. Without the gateway the client polls
 * the open channel every 15 s; with live updates this passes at once.
 */
export const otherSideTimeoutMs = Number(process.env.MADANG_E2E_OTHER_SIDE_MS || 40_000);

const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const started = Date.now();
export const log = (...parts) => console.log(`[e2e ${((Date.now() - started) / 1000).toFixed(1)}s]`, ...parts);

async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/** A UDP port nothing listens on now (for the voice socket). */
export async function freeUdpPort() {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const { port } = socket.address();
  socket.close();
  return port;
}

/** Starts madang with cheap password hashing and quotas a test cannot hit; `env` adds settings. */
export async function startServer({ env: extraEnv = {} } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'madang-e2e-data-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const output = [];
  let child = null;

  // MADANG_BIN is ours, not a setting of madang's (which would warn about it).
  const { MADANG_BIN: _ours, ...inherited } = process.env;
  const env = {
    ...inherited,
    MADANG_PASSWORD_HASHING__MEMORY_KIB: '64',
    MADANG_PASSWORD_HASHING__ITERATIONS: '1',
    MADANG_RATE_LIMITS__AUTH__PER_MINUTE: '100000',
    MADANG_RATE_LIMITS__AUTH__BURST: '100000',
    MADANG_RATE_LIMITS__INVITES__PER_MINUTE: '100000',
    MADANG_RATE_LIMITS__INVITES__BURST: '100000',
    MADANG_RATE_LIMITS__USER__PER_MINUTE: '1000000',
    MADANG_RATE_LIMITS__USER__BURST: '100000',
    RUST_LOG: process.env.RUST_LOG || 'warn',
    ...extraEnv,
  };

  // Never leave a server behind, even when the run is cut short.
  process.once('exit', () => child?.kill('SIGKILL'));

  async function start() {
    child = spawn(serverBin, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk) => {
      output.push(chunk.toString());
      if (output.length > 400) output.shift();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const exited = once(child, 'exit').then(([code]) => {
      throw new Error(`madang exited with ${code} before it was ready:\n${output.join('')}`);
    });
    const deadline = Date.now() + 30_000;
    const ready = (async () => {
      while (Date.now() < deadline) {
        try {
          if ((await fetch(`${base}/readyz`)).ok) return;
        } catch {
          // Not listening yet.
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`madang was not ready within 30 s:\n${output.join('')}`);
    })();
    await Promise.race([ready, exited]);
    exited.catch(() => undefined);
    const index = await fetch(base);
    if (!index.ok) throw new Error(`madang does not serve the web client (${index.status}): run \`npm run build\` first`);
  }

  async function stop() {
    if (!child || child.exitCode !== null) return;
    const exit = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exit;
    clearTimeout(timer);
  }

  await start();
  log(`madang ${serverBin} on ${base}`);
  return {
    base,
    output: () => output.join(''),
    /** Stops and starts the same server (same port, same data). */
    restart: async () => {
      await stop();
      await start();
    },
    close: async () => {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Console noise that is expected while the server has no gateway, or from a test's own wrong password. */
const expectedConsole = [/WebSocket connection to .*\/gateway/, /Failed to load resource: the server responded with a status of 40[01]/];

/**
 * One person: their own Chromium with its own profile; `deviceScaleFactor` is the screen's
 * device pixels per CSS pixel (2–3 on phones), `args` adds Chromium flags.
 */
export async function openBrowser(name, { locale = 'en-US', colorScheme = 'dark', viewport = { width: 1280, height: 800 }, deviceScaleFactor = 1, args = [] } = {}) {
  const profile = mkdtempSync(join(tmpdir(), `madang-e2e-${name}-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: [...chromiumArgs, ...args],
    locale,
    colorScheme,
    viewport,
    deviceScaleFactor,
    reducedMotion: 'reduce',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  const user = { name, context, page, errors: [], notes: [] };
  page.on('pageerror', (error) => user.errors.push(`${name} uncaught: ${error.stack ?? error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error' && message.type() !== 'warning') return;
    const text = message.text();
    if (/Content.Security.Policy/i.test(text)) user.errors.push(`${name} CSP: ${text}`);
    else if (!expectedConsole.some((pattern) => pattern.test(text))) user.notes.push(`${name} console.${message.type()}: ${text}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 500) user.errors.push(`${name} HTTP ${response.status()} ${response.request().method()} ${response.url()}`);
  });
  user.close = async () => {
    await context.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
  };
  return user;
}

/**
 * Waits until the other user's screen shows `locator` (or, with `state: 'detached'`, no longer
 * shows it): after the client's polling refresh today, at once with live updates.
 */
export async function waitForOtherSide(user, locator, what, { state = 'visible' } = {}) {
  const from = Date.now();
  await locator.first().waitFor({ state, timeout: otherSideTimeoutMs });
  log(`${user.name} saw ${what} after ${((Date.now() - from) / 1000).toFixed(1)} s`);
}

export async function screenshot(user, file) {
  mkdirSync(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${file}.png`);
  await user.page.screenshot({ path, animations: 'disabled' });
  return path;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
export const a11yFindings = [];

/**
 * Runs axe-core on what the page shows now; returns the serious and critical violations (the
 * suite fails on those) and keeps the rest for the report.
 */
export async function checkA11y(user, screen) {
  if (!(await user.page.evaluate(() => typeof window.axe === 'object'))) await user.page.evaluate(axeSource);
  const violations = await user.page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.slice(0, 5).map((node) => `${node.target.join(' ')} — ${node.failureSummary?.split('\n').slice(1).join(' ')}`),
    }));
  });
  for (const violation of violations) a11yFindings.push({ screen, ...violation });
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}

export function describeViolations(violations) {
  return violations.map((v) => `${v.impact} ${v.id}: ${v.help}\n    ${v.nodes.join('\n    ')}`).join('\n');
}

export function browserAvailable() {
  return existsSync(chromiumPath);
}

/** The password every e2e person registers with. */
export const password = 'correct horse battery staple';

/** Fills the register form with `person` ({email, display, username}) and submits it. */
export async function registerThroughForm(page, person) {
  await page.locator('input[name=email]').fill(person.email);
  await page.locator('input[name=display_name]').fill(person.display);
  await page.locator('input[name=username]').fill(person.username);
  await page.locator('input[name=password]').fill(password);
  await page.locator('form button[type=submit]').click();
}

/**
 * A story told in steps over browsers that stay open between them (`browsers()` lists them):
 * once a step fails the later ones are skipped; a failing step screenshots every browser
 * (`failed-<prefix><name>`) and adds what the browsers reported to its error; a passing one
 * must leave no uncaught error, CSP violation or server error behind.
 */
export function story(browsers, { prefix = '', timeout = 90_000 } = {}) {
  const told = { broken: null, shots: [] };
  told.step = (name, body, stepTimeout = timeout) => {
    test(name, { timeout: stepTimeout }, async (t) => {
      if (told.broken) {
        t.skip(`skipped after "${told.broken}" failed`);
        return;
      }
      try {
        await body();
        const errors = browsers().flatMap((user) => user.errors.splice(0));
        assert.deepEqual(errors, [], 'uncaught errors, CSP violations or server errors in the browsers');
      } catch (error) {
        told.broken = name;
        for (const user of browsers()) await screenshot(user, `failed-${prefix}${user.name}`).catch(() => undefined);
        const seen = browsers().flatMap((user) => [...user.errors, ...user.notes]);
        for (const user of browsers()) {
          const rendered = await user.page.evaluate(() => document.getElementById('root')?.childElementCount ?? -1).catch(() => 'unknown');
          seen.push(`${user.name} is at ${user.page.url()} (root elements: ${rendered})`);
        }
        error.message += `\n  in the browsers:\n    ${seen.join('\n    ')}`;
        throw error;
      }
    });
  };
  /** A screenshot of a main screen, listed at the end of the run. */
  told.shot = async (user, file) => {
    await screenshot(user, file);
    told.shots.push(file);
  };
  return told;
}
