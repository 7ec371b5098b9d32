// What an operator does to one task from its page, each asked first and each then listed
// under "Actions taken" and on the audit page: run a delayed task now, edit its
// parameters and retry it (refused parameters shown beside the editor), and delete it.
import { expect, test } from '@playwright/test';
import { getTask, submitTask, waitForStatus } from './fixtures/api';
import { TaskPage } from './fixtures/task-page';

test('a delayed task is run now, then deleted, and both are in the audit log', async ({ page, request }) => {
  const task = await submitTask(request, { task_type: 'noop', delay_ms: 600_000 });
  const taskPage = new TaskPage(page);
  await taskPage.goto(task.id);
  await expect(taskPage.status).toHaveText(/SCHEDULED/);
  await expect(page.getByTestId('delete-button')).toHaveCount(0);
  await taskPage.act('run-now');
  await expect(taskPage.status).toHaveText(/SUCCESS/);
  const history = page.getByTestId('audit-entry');
  await expect(history).toHaveCount(1);
  await expect(history.first()).toHaveAttribute('data-action', 'run_now');
  await expect(history.first()).toContainText('local');

  await taskPage.act('delete');
  await expect(page).toHaveURL(/\/tasks$/);
  const gone = await request.get(`/api/tasks/${task.id}`);
  expect(gone.status()).toBe(404);

  await page.goto('/audit');
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
  const entries = page.locator(`[data-testid="audit-entry"][data-task-id="${task.id}"]`);
  await expect(entries).toHaveCount(2);
  await expect(entries.first()).toHaveAttribute('data-action', 'delete');
});

test('parameters are edited and the task retried; refused ones are shown and change nothing', async ({ page, request }) => {
  const task = await submitTask(request, {
    task_type: 'data_processing',
    parameters: { rows: 10, pace_ms: 0 },
    delay_ms: 600_000,
  });
  const cancelled = await request.delete(`/api/tasks/${task.id}`);
  expect(cancelled.status()).toBe(200);
  const taskPage = new TaskPage(page);
  await taskPage.goto(task.id);
  await expect(taskPage.status).toHaveText(/CANCELLED/);

  await page.getByTestId('edit-retry-button').click();
  const editor = page.getByTestId('param-json');
  await expect(editor).toHaveValue(/"rows": 10/);
  await editor.fill('{"rows": 0, "pace_ms": 0}');
  await page.getByTestId('edit-retry-submit').click();
  await page.getByTestId('confirm-button').click();
  await expect(page.getByTestId('json-errors')).toContainText('parameters.rows');
  expect((await getTask(request, task.id)).status).toBe('CANCELLED');

  await editor.fill('{"rows": 30, "pace_ms": 0}');
  await page.getByTestId('edit-retry-submit').click();
  await page.getByTestId('confirm-button').click();
  await waitForStatus(request, task.id, ['SUCCESS']);
  await expect(taskPage.status).toHaveText(/SUCCESS/);
  const edit = page.locator('[data-testid="audit-entry"][data-action="edit_retry"]');
  await expect(edit).toHaveCount(1);
  await expect(edit).toContainText('"rows":10');
  await expect(edit).toContainText('"rows":30');
});
