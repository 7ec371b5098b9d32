// Playwright runs the dashboard tests against a freshly built release server, started
// here on a free loopback port with a fresh SQLite database in a temporary directory.
// The browser is Debian's Chromium; Playwright never downloads one.
import { defineConfig } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GUARDED_READ_ONLY_TOKEN, GUARDED_TOKEN } from './tests/fixtures/guarded';

// The config is evaluated by the runner and again by every worker: decide the port and
// database once, in the runner, and pass them to the workers through the environment.
function freePort(): string {
  const script =
    "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})";
  return execFileSync(process.execPath, ['-e', script]).toString().trim();
}
process.env.SPOOL_E2E_PORT ??= freePort();
process.env.SPOOL_E2E_GUARDED_PORT ??= freePort();
process.env.SPOOL_E2E_DATA ??= mkdtempSync(join(tmpdir(), 'spool-e2e-'));

const port = process.env.SPOOL_E2E_PORT;
const baseURL = `http://127.0.0.1:${port}`;
const database = `sqlite://${join(process.env.SPOOL_E2E_DATA, 'e2e.db')}`;
const dataDir = join(process.env.SPOOL_E2E_DATA, 'data');
// A second server that needs a token, for the login tests (see fixtures/guarded.ts).
const guardedPort = process.env.SPOOL_E2E_GUARDED_PORT;
const guardedDatabase = `sqlite://${join(process.env.SPOOL_E2E_DATA, 'guarded.db')}`;
// The main server is the release binary alone, run from an empty directory: the
// dashboard it serves is the one built into it (one-file.spec.ts). The second one serves
// the site from disk with --site-root, as development does.
const binary = resolve('../target/release/spool');
const emptyDir = join(process.env.SPOOL_E2E_DATA, 'empty');
mkdirSync(emptyDir, { recursive: true });
const serve = `${binary} serve`;
const serveFromDisk = `${binary} serve --site-root ${resolve('../target/site')}`;
// External kinds, one with a JSON Schema (the form draws its fields) and one without (the
// form offers a JSON editor): see external-kind-form.spec.ts.
const resizeSchema = join(process.env.SPOOL_E2E_DATA, 'resize.schema.json');
writeFileSync(
  resizeSchema,
  JSON.stringify({
    type: 'object',
    required: ['path'],
    additionalProperties: false,
    properties: { path: { type: 'string', minLength: 1 }, width: { type: 'integer', minimum: 16 } },
  }),
);

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 90_000,
  expect: { timeout: 20_000 },
  reporter: [['list']],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: [
    {
      command:
        `${serve} --addr 127.0.0.1:${port} --database-url ${database} --data-dir ${dataDir}` +
        ` --external-kind resize --external-kind-schema resize=${resizeSchema} --external-kind blob` +
        // A queue of the charts' test alone, so it knows what finished there.
        ' --queue charts=2',
      url: baseURL,
      cwd: emptyDir,
      // The http kind's browser test calls this server itself.
      env: { SPOOL_HTTP_ALLOW: `127.0.0.1:${port}` },
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: 'pipe',
      stderr: 'pipe',
    },
    {
      command: `${serveFromDisk} --addr 127.0.0.1:${guardedPort} --database-url ${guardedDatabase} --data-dir ${dataDir}`,
      url: `http://127.0.0.1:${guardedPort}/healthz`,
      env: { SPOOL_TOKEN: GUARDED_TOKEN, SPOOL_READ_ONLY_TOKEN: GUARDED_READ_ONLY_TOKEN },
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: 'pipe',
      stderr: 'pipe',
    },
  ],
});
