// The release binary is one file: the server these tests run was started from an empty
// directory with no --site-root, so the dashboard it serves (hydrated in every other
// spec) is the one compiled into it. Its files go out precompressed when the browser
// accepts it, typed, with an ETag the browser revalidates against.
import { expect, test } from '@playwright/test';

test('the built-in dashboard hydrates, served from an empty directory', async ({ page }) => {
  const wasm = page.waitForResponse((response) => new URL(response.url()).pathname === '/pkg/spool.wasm');
  await page.goto('/');
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
  const response = await wasm;
  expect(response.status()).toBe(200);
  const headers = response.headers();
  expect(headers['content-type']).toBe('application/wasm');
  expect(headers['content-encoding']).toBe('br');
  await expect(page.getByTestId('submit-form')).toBeVisible();
});

test('assets are compressed as accepted, typed, and revalidated by ETag', async ({ request }) => {
  const plain = await request.get('/pkg/spool.wasm', { headers: { 'Accept-Encoding': 'identity' } });
  expect(plain.status()).toBe(200);
  expect(plain.headers()['content-encoding']).toBeUndefined();
  const raw = await plain.body();
  // A WebAssembly module starts with "\0asm".
  expect([...raw.subarray(0, 4)]).toEqual([0, 0x61, 0x73, 0x6d]);

  const gzip = await request.get('/pkg/spool.wasm', { headers: { 'Accept-Encoding': 'gzip' } });
  expect(gzip.headers()['content-encoding']).toBe('gzip');
  expect(Number(gzip.headers()['content-length'])).toBeLessThan(raw.length);
  const brotli = await request.get('/pkg/spool.wasm', { headers: { 'Accept-Encoding': 'gzip, br' } });
  expect(brotli.headers()['content-encoding']).toBe('br');
  for (const response of [plain, gzip, brotli]) {
    expect(response.headers()['cache-control']).toBe('no-cache');
    expect(response.headers()['vary']).toBe('accept-encoding');
    expect(response.headers()['etag']).toMatch(/^"[0-9a-f]{64}"$/);
  }
  // Each coding is its own representation, with its own tag.
  expect(gzip.headers()['etag']).not.toBe(brotli.headers()['etag']);

  const again = await request.get('/pkg/spool.wasm', {
    headers: { 'Accept-Encoding': 'br', 'If-None-Match': brotli.headers()['etag'] },
  });
  expect(again.status()).toBe(304);
  expect(await again.body()).toHaveLength(0);
  const weak = await request.get('/pkg/spool.wasm', {
    headers: { 'Accept-Encoding': 'br', 'If-None-Match': `W/${brotli.headers()['etag']}` },
  });
  expect(weak.status()).toBe(304);
  const stale = await request.get('/pkg/spool.wasm', {
    headers: { 'Accept-Encoding': 'br', 'If-None-Match': '"0000"' },
  });
  expect(stale.status()).toBe(200);

  const css = await request.get('/pkg/spool.css', { headers: { 'Accept-Encoding': 'identity' } });
  expect(css.headers()['content-type']).toMatch(/^text\/css/);
  expect(await css.text()).toContain('.topbar');
  const js = await request.get('/pkg/spool.js');
  expect(js.headers()['content-type']).toMatch(/javascript/);
  const icon = await request.get('/favicon.ico');
  expect(icon.status()).toBe(200);
  expect(icon.headers()['content-type']).toMatch(/icon/);
  const head = await request.head('/pkg/spool.css', { headers: { 'Accept-Encoding': 'identity' } });
  expect(head.status()).toBe(200);
  expect(Number(head.headers()['content-length'])).toBe((await css.body()).length);
});

test('a path that names no built file gets the 404 page, not a file', async ({ request }) => {
  for (const path of ['/pkg/no-such-file.js', '/pkg/spool.wasm.br', '/Cargo.toml']) {
    const response = await request.get(path);
    expect(response.status(), path).toBe(404);
    expect(response.headers()['content-type'], path).toMatch(/^text\/html/);
  }
});
