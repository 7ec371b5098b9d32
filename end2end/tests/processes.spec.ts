// The processes page lists the server that runs the dashboard, live, with its queues and
// what it runs now; a task's attempt links to the process that ran it; the queues page
// adds up every live process's workers.
import { expect, test } from '@playwright/test';
import { submitTask, waitForStatus } from './fixtures/api';
import { TaskPage } from './fixtures/task-page';

test('the serving process is listed live, and an attempt links to it', async ({ page, request }) => {
  const task = await submitTask(request, { task_type: 'data_processing', parameters: { rows: 100, pace_ms: 10_000 } });
  await waitForStatus(request, task.id, ['RUNNING']);
  const listed = await (await request.get('/api/processes')).json();
  const serving = listed.find((p: { role: string; state: string }) => p.role === 'serve' && p.state === 'live');
  expect(serving, JSON.stringify(listed)).toBeTruthy();

  await page.goto('/processes');
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
  const row = page.locator(`[data-testid="process-row"][data-process-id="${serving.id}"]`);
  await expect(row).toHaveAttribute('data-state', 'live');
  await expect(row).toContainText('serve');
  await expect(row).toContainText('default (');
  await expect(row.getByTestId('process-running')).not.toHaveText('0');

  const taskPage = new TaskPage(page);
  await taskPage.goto(task.id);
  const link = page.getByTestId('attempt-process');
  await expect(link).toHaveText(`${serving.id}/default`);
  await link.click();
  await expect(page).toHaveURL(new RegExp(`/processes#${serving.id}$`));
  await expect(page.locator(`[data-testid="process-row"][data-process-id="${serving.id}"]`)).toBeVisible();
  expect((await request.delete(`/api/tasks/${task.id}`)).status()).toBe(200);

  await page.goto('/queues');
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
  const concurrency = serving.queues.find((q: { name: string }) => q.name === 'default').concurrency;
  await expect(page.locator('[data-testid="queue-row"][data-queue="default"] [data-testid="total-concurrency"]')).toHaveText(
    String(concurrency),
  );
});
