// Rows selected in the task list are cancelled (then retried) together.
import { expect, test } from '@playwright/test';
import { getTask, submitTask } from './fixtures/api';
import { TasksPage } from './fixtures/tasks-page';

test('selected tasks are cancelled and retried in bulk', async ({ page, request }) => {
  const a = await submitTask(request, { task_type: 'noop', delay_ms: 600_000, queue: 'bulk' });
  const b = await submitTask(request, { task_type: 'noop', delay_ms: 600_000, queue: 'bulk' });
  const untouched = await submitTask(request, { task_type: 'noop', delay_ms: 600_000, queue: 'bulk' });

  const list = new TasksPage(page);
  await list.goto('?queue=bulk');
  await list.row(a.id).getByTestId('select-task').check();
  await list.row(b.id).getByTestId('select-task').check();
  await page.getByTestId('bulk-cancel').click();
  await expect(list.row(a.id)).toHaveAttribute('data-status', 'CANCELLED');
  await expect(list.row(b.id)).toHaveAttribute('data-status', 'CANCELLED');
  expect((await getTask(request, untouched.id)).status).toBe('SCHEDULED');
  // The selection was cleared; select one again and retry it.
  await expect(page.getByTestId('bulk-retry')).toBeDisabled();
  await list.row(a.id).getByTestId('select-task').check();
  await page.getByTestId('bulk-retry').click();
  await expect(list.row(a.id)).not.toHaveAttribute('data-status', 'CANCELLED');
  expect((await getTask(request, b.id)).status).toBe('CANCELLED');
});
