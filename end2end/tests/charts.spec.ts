// The charts page as an operator uses it: tasks of a kind finish in a queue of their own,
// the charts show them by queue and by kind with their latencies, a click on the queue
// charts it alone, the day's window has hourly slots, and a paused queue shows how long
// its oldest task has waited.
import { expect, test, type APIRequestContext } from '@playwright/test';
import { submitTask, waitForStatus } from './fixtures/api';

/** How many tasks of `queue` succeeded within the window, by the API. */
async function succeeded(request: APIRequestContext, queue: string, window: string): Promise<number> {
  const charts = await (await request.get(`/api/charts?window=${window}`)).json();
  const group = charts.queues.find((q: { name: string }) => q.name === queue);
  return group ? group.finished.succeeded : 0;
}

test('finished tasks are charted by queue and kind, and one queue can be charted alone', async ({ page, request }) => {
  // The server works this queue for this test alone.
  const queue = 'charts';
  const before = await succeeded(request, queue, 'hour');
  const beforeDay = await succeeded(request, queue, 'day');
  for (let i = 0; i < 3; i++) {
    const task = await submitTask(request, { task_type: 'noop', queue });
    await waitForStatus(request, task.id, ['SUCCESS']);
  }

  await page.goto('/');
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
  await page.getByRole('link', { name: 'Charts', exact: true }).click();
  await expect(page).toHaveURL(/\/charts$/);
  await expect(page.getByTestId('finished-chart')).toBeVisible();
  await expect(page.getByTestId('latency-chart')).toBeVisible();
  const row = page.locator(`[data-testid="chart-queues"] [data-testid="chart-group"][data-name="${queue}"]`);
  await expect(row).toBeVisible();
  await expect(row.locator('td').first()).toHaveText(String(before + 3));
  await expect(row.getByTestId('run-p95')).not.toHaveText('—');
  await expect(page.locator('[data-testid="chart-kinds"] [data-testid="chart-group"][data-name="noop"]')).toBeVisible();

  // One queue alone: its name is a link, the limit shows and clears.
  await row.getByRole('link', { name: queue }).click();
  await expect(page).toHaveURL(new RegExp(`queue=${queue}`));
  await expect(page.getByTestId('chart-limits')).toContainText(queue);
  await expect(page.getByTestId('finished-chart')).toContainText(`In the last hour: ${before + 3} succeeded`);
  await page.getByRole('link', { name: 'Last day' }).click();
  await expect(page).toHaveURL(/window=day/);
  await expect(page.getByRole('link', { name: 'Last day' })).toHaveAttribute('aria-current', 'page');
  await expect(page.getByTestId('finished-chart').locator('rect.bar-ok')).toHaveCount(24);
  await expect(page.getByTestId('finished-chart')).toContainText(`In the last day: ${beforeDay + 3} succeeded`);
  await page.getByRole('link', { name: 'every queue' }).click();
  await expect(page.getByTestId('chart-limits')).not.toContainText(queue);
});

test('a paused queue shows how long its oldest task has waited', async ({ page, request }) => {
  const queue = `held-${Date.now()}`;
  expect((await request.post(`/api/queues/${queue}/pause`)).status()).toBe(204);
  const task = await submitTask(request, { task_type: 'noop', queue });
  await page.goto('/charts');
  const oldest = page.locator(`[data-testid="chart-queues"] [data-testid="chart-group"][data-name="${queue}"] [data-testid="oldest-pending"]`);
  // Refreshed every two seconds: the age appears and grows.
  await expect(oldest).toHaveText(/\d+(\.\d)? s|\d+ ms/);
  await expect(oldest).toHaveText(/^([2-9]|\d\d)\.\d s$|min/, { timeout: 15_000 });
  expect((await request.post(`/api/queues/${queue}/resume`)).status()).toBe(204);
  expect((await request.delete(`/api/tasks/${task.id}`)).status()).toBe(200);
});
