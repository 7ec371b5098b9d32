// The task list filters by status, type and search; its state lives in the URL, so it
// survives a reload.
import { expect, test } from '@playwright/test';
import { submitTask, waitForStatus } from './fixtures/api';
import { TasksPage } from './fixtures/tasks-page';

test('tabs, filters and search narrow the list and survive a reload', async ({ page, request }) => {
  const wanted = await submitTask(request, { task_type: 'data_processing', parameters: { rows: 4321, pace_ms: 0 } });
  const other = await submitTask(request, { task_type: 'noop' });
  await waitForStatus(request, wanted.id, ['SUCCESS']);
  await waitForStatus(request, other.id, ['SUCCESS']);

  const list = new TasksPage(page);
  await list.goto();
  await list.search.fill('4321');
  await list.applyFilters();
  await expect(page).toHaveURL(/q=4321/);
  await expect(list.row(wanted.id)).toBeVisible();
  await expect(list.row(other.id)).toHaveCount(0);

  await page.reload();
  await expect(list.search).toHaveValue('4321');
  await expect(list.row(wanted.id)).toBeVisible();

  await list.goto('?task_type=noop');
  await expect(list.row(other.id)).toBeVisible();
  await expect(list.row(wanted.id)).toHaveCount(0);
  await list.tab('FAILED').click();
  await expect(page).toHaveURL(/status=FAILED/);
  await expect(page).toHaveURL(/task_type=noop/);
  await expect(page.getByTestId('no-tasks')).toBeVisible();
  await expect(list.tab('FAILED')).toHaveAttribute('aria-current', 'page');
});

test('the type and queue filters offer the kinds and queues the server lists', async ({ page, request }) => {
  const queue = `choices-${Date.now()}`;
  await submitTask(request, { task_type: 'noop', queue, delay_ms: 600_000 });
  const list = new TasksPage(page);
  await list.goto('');
  await expect(list.type).toHaveAttribute('list', 'kind-choices');
  await expect(page.locator('#kind-choices option[value="data_processing"]')).toHaveCount(1);
  await expect(page.locator(`#queue-choices option[value="${queue}"]`)).toHaveCount(1);
  await expect(page.locator('#queue-choices option[value="default"]')).toHaveCount(1);
});
