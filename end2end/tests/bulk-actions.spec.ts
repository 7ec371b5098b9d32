// Bulk actions from the task list: the rows selected, or everything the filter matches
// (counted and confirmed first, then done a chunk at a time), each in the audit log.
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

test('everything a filter matches is counted, confirmed, then cancelled and deleted', async ({ page, request }) => {
  const queue = `matching-${Date.now()}`;
  const tasks = [];
  for (let n = 0; n < 4; n++) {
    tasks.push(await submitTask(request, { task_type: 'noop', delay_ms: 600_000, queue }));
  }
  expect((await request.delete(`/api/tasks/${tasks[0].id}`)).status()).toBe(200);

  const list = new TasksPage(page);
  await list.goto('');
  // No filter, no "all matching": it would mean every task.
  await expect(page.getByTestId('matching-cancel')).toHaveCount(0);
  await list.goto(`?queue=${queue}`);
  await page.getByTestId('matching-cancel').click();
  const question = page.getByTestId('matching-question');
  await expect(question).toContainText('Cancel the 3 waiting or running tasks this filter matches?');
  await page.getByTestId('matching-dismiss').click();
  await expect(question).toHaveCount(0);
  expect((await getTask(request, tasks[1].id)).status).toBe('SCHEDULED');

  await page.getByTestId('matching-cancel').click();
  await page.getByTestId('matching-confirm').click();
  await expect(page.getByTestId('matching-status')).toHaveText('3 cancelled; 0 skipped (changed meanwhile).');
  for (const task of tasks) {
    await expect(list.row(task.id)).toHaveAttribute('data-status', 'CANCELLED');
  }

  await page.getByTestId('matching-retry').click();
  await expect(question).toContainText('Retry the 4 failed or cancelled tasks');
  await page.getByTestId('matching-dismiss').click();
  await page.getByTestId('matching-delete').click();
  await expect(question).toContainText('Delete the 4 finished tasks this filter matches?');
  await page.getByTestId('matching-confirm').click();
  await expect(page.getByTestId('matching-status')).toHaveText('4 deleted; 0 skipped (changed meanwhile).');
  await expect(list.rows).toHaveCount(0);
  for (const task of tasks) {
    expect((await request.get(`/api/tasks/${task.id}`)).status()).toBe(404);
  }

  await page.getByTestId('matching-delete').click();
  await expect(page.getByTestId('matching-none')).toContainText('No task this filter matches can be deleted.');

  await page.goto('/audit');
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
  const entries = page.getByTestId('audit-entry').filter({ hasText: `queue=${queue}` });
  await expect(entries).toHaveCount(2);
  await expect(entries.first()).toHaveAttribute('data-action', 'bulk_delete');
  await expect(entries.nth(1)).toHaveAttribute('data-action', 'bulk_cancel');
});

test('the audit page pages back through older entries', async ({ page, request }) => {
  // 101 actions make one more entry than a page holds.
  const queue = `audit-paging-${Date.now()}`;
  for (let n = 0; n < 101; n++) {
    const task = await submitTask(request, { task_type: 'noop', delay_ms: 600_000, queue });
    expect((await request.delete(`/api/tasks/${task.id}`)).status()).toBe(200);
  }
  await page.goto('/audit');
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
  await expect(page.getByTestId('audit-entry')).toHaveCount(100);
  const newestOnFirst = await page.getByTestId('audit-entry').first().getAttribute('data-task-id');
  await page.getByTestId('audit-older').click();
  await expect(page).toHaveURL(/\/audit\?before=\d+$/);
  await expect(page.getByTestId('audit-entry').first()).not.toHaveAttribute('data-task-id', newestOnFirst ?? '');
  await page.getByRole('link', { name: '← Newest entries' }).click();
  await expect(page.getByTestId('audit-entry').first()).toHaveAttribute('data-task-id', newestOnFirst ?? '');
});
