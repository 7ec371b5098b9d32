// The README's pictures of the dashboard, taken from a real run with tasks in every
// status. Only `make screenshots` runs this (it sets SPOOL_SCREENSHOTS), on a fresh
// server, and writes docs/*.png; `make test` skips it and never rewrites them.
import { expect, test, type Page } from '@playwright/test';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { submitTask, waitForStatus } from './fixtures/api';
import { DashboardPage } from './fixtures/dashboard-page';
import { TaskPage } from './fixtures/task-page';

const DOCS = join(__dirname, '..', '..', 'docs');
// README pictures stay small enough to load fast on a phone.
const MAX_BYTES = 200 * 1024;

test.skip(!process.env.SPOOL_SCREENSHOTS, 'only `make screenshots` takes the pictures');

async function picture(page: Page, name: string): Promise<void> {
  const path = join(DOCS, `${name}.png`);
  await page.screenshot({ path, animations: 'disabled' });
  expect(statSync(path).size, `${name}.png is too large`).toBeLessThan(MAX_BYTES);
}

test('the overview, the task list and a task page, with tasks in every status', async ({ page, request }) => {
  test.setTimeout(180_000);
  await page.setViewportSize({ width: 1280, height: 800 });

  const finished = [];
  for (const rows of [500, 2000, 8000]) {
    finished.push(await submitTask(request, { task_type: 'data_processing', parameters: { rows, pace_ms: 0 } }));
  }
  finished.push(await submitTask(request, { task_type: 'email_simulation', parameters: { count: 3, pace_ms: 0 } }));
  finished.push(await submitTask(request, { task_type: 'image_processing', parameters: { pace_ms: 0 } }));
  const failed = await submitTask(request, {
    task_type: 'data_processing',
    parameters: { rows: 100, pace_ms: 5000 },
    timeout_ms: 300,
    max_attempts: 2,
  });
  const cancelled = await submitTask(request, { task_type: 'email_simulation', parameters: {}, delay_ms: 600_000 });
  expect((await request.delete(`/api/tasks/${cancelled.id}`)).status()).toBe(200);
  await submitTask(request, { task_type: 'data_processing', parameters: {}, delay_ms: 3_600_000 });
  // A queue no process works: its tasks wait, PENDING.
  await submitTask(request, { task_type: 'email_simulation', parameters: {}, queue: 'reports' });
  await submitTask(request, { task_type: 'data_processing', parameters: { rows: 1000 }, queue: 'reports', priority: 2 });
  const running = await submitTask(request, { task_type: 'data_processing', parameters: { rows: 100_000, pace_ms: 3000 } });

  for (const task of finished) await waitForStatus(request, task.id, ['SUCCESS']);
  await waitForStatus(request, failed.id, ['FAILED']);
  await waitForStatus(request, running.id, ['RUNNING']);

  const dashboard = new DashboardPage(page);
  await dashboard.goto();
  await expect(dashboard.row(running.id)).toBeVisible();
  await picture(page, 'overview');

  await page.goto('/tasks');
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
  for (const status of ['PENDING', 'SCHEDULED', 'RUNNING', 'SUCCESS', 'FAILED', 'CANCELLED']) {
    await expect(page.getByTestId('task-row').filter({ hasText: status }).first()).toBeVisible();
  }
  await picture(page, 'tasks');

  const detail = new TaskPage(page);
  await detail.goto(failed.id);
  await expect(detail.attempts).toHaveCount(2);
  await picture(page, 'task');

  await page.goto('/charts');
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
  await expect(page.locator('[data-testid="chart-queues"] [data-name="reports"] [data-testid="oldest-pending"]')).not.toHaveText('—');
  await picture(page, 'charts');
});

test('the schedules page, with runs and the form open', async ({ page, request }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  const schedules: Array<[string, Record<string, unknown>]> = [
    ['nightly-report', { cron: '0 2 * * *', timezone: 'Europe/Paris', catch_up: 'once', task: { task_type: 'data_processing', parameters: { rows: 500, pace_ms: 0 }, queue: 'reports' } }],
    ['heartbeat', { every_secs: 60, catch_up: 'each', task: { task_type: 'noop' } }],
    ['weekly-digest', { cron: '0 9 * * MON', timezone: 'America/New_York', task: { task_type: 'email_simulation', parameters: { count: 2, pace_ms: 0 } } }],
  ];
  for (const [name, body] of schedules) {
    expect([200, 201]).toContain((await request.put(`/api/schedules/${name}`, { data: body })).status());
  }
  expect((await request.post('/api/schedules/nightly-report/run')).status()).toBe(200);
  expect((await request.post('/api/schedules/weekly-digest/pause')).status()).toBe(200);
  await page.goto('/schedules');
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
  await expect(page.getByTestId('schedule-run').first()).toBeVisible();
  await page.getByTestId('new-schedule').click();
  await page.getByTestId('schedule-cron').fill('*/15 9-17 * * MON-FRI');
  await expect(page.getByTestId('timing-next').locator('li')).toHaveCount(5);
  await picture(page, 'schedules');
});
