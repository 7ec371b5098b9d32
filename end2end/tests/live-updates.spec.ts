// The dashboard stays live: it still updates after a minute, shows when the server
// cannot be reached, and recovers by itself.
import { expect, test } from '@playwright/test';
import { submitTask } from './fixtures/api';
import { DashboardPage } from './fixtures/dashboard-page';

test('polling still updates the overview after a minute', async ({ page, request }) => {
  test.setTimeout(150_000);
  const dashboard = new DashboardPage(page);
  await dashboard.goto();
  await page.waitForTimeout(65_000);
  const task = await submitTask(request, { task_type: 'noop' });
  await expect(dashboard.status(task.id)).toHaveText(/SUCCESS/, { timeout: 20_000 });
  await expect(page.getByTestId('live-indicator')).toHaveText(/live/);
});

test('an unreachable server shows a banner and the page recovers by itself', async ({ page }) => {
  const dashboard = new DashboardPage(page);
  await dashboard.goto();
  await page.route('**/api/overview*', (route) => route.abort());
  await expect(page.getByTestId('offline-banner')).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId('live-indicator')).toHaveText(/offline/);
  await page.unroute('**/api/overview*');
  await expect(page.getByTestId('offline-banner')).toBeHidden({ timeout: 20_000 });
  await expect(page.getByTestId('live-indicator')).toHaveText(/live/);
});

test('refreshing pauses while the tab is hidden and resumes when it is shown', async ({ page, request }) => {
  await submitTask(request, { task_type: 'noop' });
  const dashboard = new DashboardPage(page);
  await dashboard.goto();
  const indicator = page.getByTestId('live-indicator');
  await expect(indicator).toHaveText(/live/);
  // Times turn relative once the browser's clock runs.
  await expect(page.getByTestId('relative-time').first()).toHaveText(/ago|just now/);
  const setVisibility = (state: string) =>
    page.evaluate((value) => {
      Object.defineProperty(document, 'visibilityState', { value, configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    }, state);
  await setVisibility('hidden');
  await expect(indicator).toHaveText(/paused/);
  await setVisibility('visible');
  await expect(indicator).toHaveText(/live/);
});
