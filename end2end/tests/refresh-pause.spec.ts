// Refreshing can be paused from the header; the pause outlives a reload, and resuming
// shows what changed meanwhile.
import { expect, test } from '@playwright/test';
import { submitTask } from './fixtures/api';
import { TasksPage } from './fixtures/tasks-page';

test('a paused dashboard stays paused across a reload until resumed', async ({ page, request }) => {
  const queue = `pause-${Date.now()}`;
  const list = new TasksPage(page);
  await list.goto(`?queue=${queue}`);
  const toggle = page.getByTestId('refresh-toggle');
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('live-indicator')).toHaveText('❚❚ paused');

  await page.reload();
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
  await expect(toggle).toHaveAttribute('aria-pressed', 'true');
  await expect(toggle).toHaveText('Resume refresh');
  await expect(page.getByTestId('live-indicator')).toHaveText('❚❚ paused');

  // Submitted while paused: two refresh cycles later the list still does not show it.
  const task = await submitTask(request, { task_type: 'noop', queue, delay_ms: 600_000 });
  await page.waitForTimeout(4_500);
  await expect(list.row(task.id)).toHaveCount(0);

  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
  await expect(list.row(task.id)).toHaveCount(1);
  await expect(page.getByTestId('live-indicator')).toHaveText('● live');
  await page.reload();
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
});
