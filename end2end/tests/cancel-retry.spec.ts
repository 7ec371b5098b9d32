// Cancel and retry from the detail page, each confirmed; the attempts timeline shows
// what happened.
import { expect, test } from '@playwright/test';
import { submitTask, waitForStatus } from './fixtures/api';
import { TaskPage } from './fixtures/task-page';

test('a running task is cancelled from its page', async ({ page, request }) => {
  const task = await submitTask(request, { task_type: 'data_processing', parameters: { rows: 100, pace_ms: 5000 } });
  await waitForStatus(request, task.id, ['RUNNING']);
  const detail = new TaskPage(page);
  await detail.goto(task.id);
  await expect(detail.status).toHaveText(/RUNNING/);
  await page.getByTestId('cancel-button').click();
  // Nothing happens before the confirmation.
  await page.getByTestId('dismiss-button').click();
  await expect(detail.status).toHaveText(/RUNNING/);
  await detail.act('cancel');
  await expect(detail.status).toHaveText(/CANCELLED/);
  await expect(detail.attempts).toHaveCount(1);
  await expect(detail.attempts.first()).toHaveAttribute('data-outcome', 'CANCELLED');
});

test('a failed task is retried from its page and its attempts are listed', async ({ page, request }) => {
  const task = await submitTask(request, {
    task_type: 'data_processing',
    parameters: { rows: 100, pace_ms: 5000 },
    timeout_ms: 200,
    max_attempts: 1,
  });
  await waitForStatus(request, task.id, ['FAILED']);
  const detail = new TaskPage(page);
  await detail.goto(task.id);
  await expect(detail.status).toHaveText(/FAILED/);
  await expect(page.getByTestId('task-error')).toHaveText(/timed out after 200 ms/);
  await expect(detail.attempts).toHaveCount(1);
  await detail.act('retry');
  // The retry runs, times out again, and both attempts are on the page.
  await expect(detail.attempts).toHaveCount(2, { timeout: 30_000 });
  await expect(detail.status).toHaveText(/FAILED/, { timeout: 30_000 });
  await expect(page.getByTestId('attempt-count')).toHaveText('2 of 2');
});
