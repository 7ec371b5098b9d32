// A task submitted through the form is watched to completion by polling alone: this
// proves the page hydrated, the server functions work and the 2-second refresh runs.
import { expect, test } from '@playwright/test';
import { DashboardPage } from './fixtures/dashboard-page';

test('a data_processing task submitted through the form runs to SUCCESS without a reload', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });

  const dashboard = new DashboardPage(page);
  await dashboard.goto();
  // Survives only if the page is never reloaded.
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

  // 20 steps of 400 ms: long enough for a 2-second refresh to catch it running.
  const id = await dashboard.submit('data_processing', { rows: '500', pace_ms: '400' });

  await expect(dashboard.status(id)).toHaveText(/RUNNING/);
  await expect(dashboard.status(id)).toHaveText(/SUCCESS/, { timeout: 60_000 });
  await expect(dashboard.progressText(id)).toHaveText('100%');
  await expect(dashboard.progressBar(id)).toHaveJSProperty('value', 100);

  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
  expect(errors).toEqual([]);
});

test('out-of-range parameters are refused with a message next to the field', async ({ page }) => {
  const dashboard = new DashboardPage(page);
  await dashboard.goto();
  await dashboard.taskType.selectOption('data_processing');
  await dashboard.param('rows').fill('0');
  await dashboard.submitButton.click();

  const field = dashboard.param('rows').locator('xpath=..');
  await expect(field.getByTestId('field-error')).toHaveText(/from 1 to 1000000/);
  await expect(dashboard.param('rows')).toHaveAttribute('aria-invalid', 'true');
  await expect(dashboard.submitStatus).not.toHaveAttribute('data-task-id', /.+/);
});
