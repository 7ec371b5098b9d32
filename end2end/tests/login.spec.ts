// A token-protected dashboard: the login page, its HttpOnly session cookie, the
// read-only token, and the dashboard still hydrating under its Content-Security-Policy.
import { test, expect } from '@playwright/test';
import { GUARDED_READ_ONLY_TOKEN, GUARDED_TOKEN, LoginPage, guardedURL } from './fixtures/guarded';

test('the dashboard asks for the token once and keeps an HttpOnly, strict session', async ({ page, context }) => {
  const violations: string[] = [];
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) violations.push(message.text());
  });
  const login = new LoginPage(page);

  await page.goto(guardedURL('/tasks?status=FAILED'));
  await expect(page).toHaveURL(guardedURL('/login?next=/tasks%3Fstatus%3DFAILED'));
  await login.logIn('not-the-token-at-all');
  await expect(login.error).toHaveText('That token is not valid.');

  await login.logIn(GUARDED_TOKEN);
  await expect(page).toHaveURL(guardedURL('/tasks?status=FAILED'));
  await login.expectHydrated();
  await expect(page.getByTestId('tab-FAILED')).toBeVisible();

  const session = (await context.cookies(guardedURL('/'))).find((c) => c.name === 'spool_session');
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe('Strict');
  expect(await page.evaluate(() => document.cookie)).not.toContain('spool_session');

  await page.goto(guardedURL('/queues'));
  await login.expectHydrated();
  await expect(page).toHaveURL(guardedURL('/queues'));
  expect(violations).toEqual([]);
});

test('the read-only token shows the dashboard but cannot pause a queue', async ({ page }) => {
  const login = new LoginPage(page);
  await page.goto(guardedURL('/queues'));
  await login.logIn(GUARDED_READ_ONLY_TOKEN);
  await expect(page).toHaveURL(guardedURL('/queues'));
  await login.expectHydrated();

  const toggle = page.getByTestId('toggle-default');
  const label = await toggle.innerText();
  const answer = page.waitForResponse((r) => r.url().includes('/api/set_queue_paused'));
  await toggle.click();
  expect((await answer).status()).toBe(403);
  await page.reload();
  await login.expectHydrated();
  await expect(page.getByTestId('toggle-default')).toHaveText(label);
});
