// `npm run e2e`: the browser end-to-end suite, or a clear skip when Debian's Chromium is not
// installed (a failure instead under MADANG_TEST_REQUIRE_ALL=1).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { browserAvailable, chromiumPath, serverBin, webDir } from './harness.mjs';

if (!browserAvailable()) {
  const message = `SKIPPED browser end-to-end: install Debian's chromium (apt-get install chromium)`;
  if (process.env.MADANG_TEST_REQUIRE_ALL === '1') {
    console.error(`FAILED browser end-to-end: ${chromiumPath} is missing and MADANG_TEST_REQUIRE_ALL=1`);
    process.exit(1);
  }
  console.log(message);
  process.exit(0);
}
if (!existsSync(serverBin)) {
  console.error(`FAILED browser end-to-end: no madang binary at ${serverBin} (run \`cargo build -p madang\`, or set MADANG_BIN)`);
  process.exit(1);
}
if (!existsSync(join(webDir, 'dist/index.html'))) {
  console.error('FAILED browser end-to-end: the web client is not built (run `npm run build` first)');
  process.exit(1);
}

const files = process.argv.slice(2);
const child = spawn(
  process.execPath,
  ['--test', '--test-reporter=spec', '--test-concurrency=1', ...(files.length ? files : [join('e2e', 'chat.e2e.mjs'), join('e2e', 'voice.e2e.mjs')])],
  { cwd: webDir, stdio: 'inherit' },
);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
