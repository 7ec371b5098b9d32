// The http kind submitted through the form: a text field and a headers field filled in,
// the call made (to this server, which the test server's --http-allow names), its
// answer shown, and the credential in its headers hidden on the task's page.
import { expect, test } from '@playwright/test';
import { DashboardPage } from './fixtures/dashboard-page';
import { TaskPage } from './fixtures/task-page';

test('an http task calls an allowed endpoint, shows its answer and hides its credential', async ({ page, baseURL }) => {
  const dashboard = new DashboardPage(page);
  await dashboard.goto();
  const id = await dashboard.submit('http', {
    url: `${baseURL}/healthz`,
    headers: 'X-Api-Key: e2e-very-secret\nAccept: text/plain',
    keep_headers: 'content-type',
  });
  await expect(dashboard.status(id)).toHaveText(/SUCCESS/, { timeout: 60_000 });

  const detail = new TaskPage(page);
  await detail.goto(id);
  await expect(page.getByTestId('http-status')).toHaveText('200');
  await expect(page.getByTestId('result-http')).toContainText('content-type');
  await expect(page.locator('main')).toContainText('(hidden)');
  await expect(page.locator('main')).toContainText('text/plain');
  expect(await page.content()).not.toContain('e2e-very-secret');
});

test('an http task to a private address fails at once and says why', async ({ page }) => {
  const dashboard = new DashboardPage(page);
  await dashboard.goto();
  const id = await dashboard.submit('http', { url: 'http://10.255.255.1/' });
  await expect(dashboard.status(id)).toHaveText(/FAILED/, { timeout: 60_000 });
  const detail = new TaskPage(page);
  await detail.goto(id);
  await expect(page.locator('main')).toContainText('a private address');
});

test('a malformed URL is refused by the form with the server’s message', async ({ page }) => {
  const dashboard = new DashboardPage(page);
  await dashboard.goto();
  await dashboard.taskType.selectOption('http');
  await dashboard.param('url').fill('not a url');
  await dashboard.submitButton.click();
  await expect(page.getByTestId('field-error').filter({ hasText: 'not a URL' })).toBeVisible();
});
