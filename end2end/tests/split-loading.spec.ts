// The dashboard's WebAssembly is split by route: the overview loads only the main module;
// every other page fetches its own chunk the first time it is shown, whether reached by a
// link or served by the server directly, and comes alive either way.
import { expect, test, type Page } from '@playwright/test';
import { submitTask } from './fixtures/api';
import { TasksPage } from './fixtures/tasks-page';

/** The path of every WebAssembly file the page fetches from now on. */
function recordWasm(page: Page): string[] {
  const fetched: string[] = [];
  page.on('response', (response) => {
    const path = new URL(response.url()).pathname;
    if (path.endsWith('.wasm')) {
      expect(response.status(), path).toBe(200);
      fetched.push(path);
    }
  });
  return fetched;
}

test('the overview loads one module; the task list fetches its chunk when first shown', async ({ page }) => {
  const fetched = recordWasm(page);
  await page.goto('/');
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
  await expect(page.getByTestId('submit-form')).toBeVisible();
  expect(fetched).toEqual(['/pkg/spool.wasm']);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tasks' }).click();
  await expect(page).toHaveURL(/\/tasks$/);
  await expect(page.getByTestId('filter-q')).toBeVisible();
  expect(fetched.length).toBeGreaterThan(1);
  expect(fetched.slice(1)).not.toContain('/pkg/spool.wasm');

  // Back to the overview and on to the task list again: nothing is fetched twice.
  const before = fetched.length;
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).click();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tasks' }).click();
  await expect(page.getByTestId('filter-q')).toBeVisible();
  expect(fetched.length).toBe(before);
});

test('a lazily loaded page served by the server comes alive', async ({ page, request }) => {
  const queue = `split-${Date.now()}`;
  const task = await submitTask(request, { task_type: 'noop', delay_ms: 600_000, queue });
  const fetched = recordWasm(page);

  const list = new TasksPage(page);
  await list.goto(`?queue=${queue}`);
  expect(fetched.length).toBeGreaterThan(1);
  await expect(page.getByTestId('bulk-cancel')).toBeDisabled();
  await list.row(task.id).getByTestId('select-task').check();
  await expect(page.getByTestId('bulk-cancel')).toBeEnabled();
  await page.getByTestId('bulk-cancel').click();
  await expect(list.row(task.id)).toHaveAttribute('data-status', 'CANCELLED');
});
