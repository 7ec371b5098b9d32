// Pausing a queue from the queues page holds its tasks; resuming lets them run.
import { expect, test } from '@playwright/test';
import { getTask, setPaused, submitTask } from './fixtures/api';
import { QueuesPage } from './fixtures/queues-page';

test('a paused queue holds its tasks and runs them once resumed', async ({ page, request }) => {
  const queues = new QueuesPage(page);
  await queues.goto();
  try {
    await expect(queues.row('default')).toHaveAttribute('data-paused', 'false');
    await queues.toggle('default').click();
    await expect(queues.row('default')).toHaveAttribute('data-paused', 'true');

    const task = await submitTask(request, { task_type: 'noop' });
    // Two refresh cycles later it still waits.
    await page.waitForTimeout(4_500);
    expect((await getTask(request, task.id)).status).toBe('PENDING');
    // Its pending count shows it waiting.
    await expect(queues.row('default').locator('td').nth(1)).toHaveText('1');

    await queues.toggle('default').click();
    await expect(queues.row('default')).toHaveAttribute('data-paused', 'false');
    await expect.poll(async () => (await getTask(request, task.id)).status, { timeout: 30_000 }).toBe('SUCCESS');
  } finally {
    await setPaused(request, 'default', false);
  }
});
