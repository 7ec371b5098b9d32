// Kinds external workers run, submitted through the form: one with a JSON Schema gets
// fields drawn from it, with the server's problems beside them; one without gets a JSON
// editor. Each submitted task is then taken and finished by a worker over REST.
import { APIRequestContext, expect, Page, test } from '@playwright/test';
import { DashboardPage } from './fixtures/dashboard-page';
import { TaskPage } from './fixtures/task-page';

/** Claims the task as an external worker would, finishes it, and checks the page says so. */
async function work(page: Page, request: APIRequestContext, id: string, queue: string, parameters: unknown) {
  const claim = await request.post('/api/workers/claim', { data: { worker: 'e2e', queues: [queue] } });
  expect(claim.status()).toBe(200);
  const [work] = await claim.json();
  expect(work.id).toBe(id);
  expect(work.parameters).toEqual(parameters);
  const done = await request.post(`/api/workers/tasks/${id}/complete`, {
    data: { attempt: work.attempt, result: { done: `${queue}-finished` } },
  });
  expect(done.status()).toBe(204);
  const detail = new TaskPage(page);
  await detail.goto(id);
  await expect(detail.status).toHaveText(/SUCCESS/);
  await expect(page.locator('main')).toContainText(`${queue}-finished`);
}

test('a schema draws the fields and the server’s problems show beside them', async ({ page, request }) => {
  const dashboard = new DashboardPage(page);
  await dashboard.goto();
  await dashboard.taskType.selectOption('resize');
  await dashboard.param('width').fill('8');
  await dashboard.submitButton.click();
  const field = (name: string) => page.locator('.field', { has: dashboard.param(name) }).getByTestId('field-error');
  await expect(field('path')).toHaveText('required');
  await expect(field('width')).toHaveText('must be at least 16, got 8');

  const id = await dashboard.submit('resize', { path: 'a.png', width: '64' });
  await work(page, request, id, 'resize', { path: 'a.png', width: 64 });
});

test('a kind without a schema gets a JSON editor that refuses what is not an object', async ({ page, request }) => {
  const dashboard = new DashboardPage(page);
  await dashboard.goto();
  await dashboard.taskType.selectOption('blob');
  const editor = page.getByTestId('param-json');
  const problems = page.getByTestId('json-errors');

  await editor.fill('{"width": 8');
  await dashboard.submitButton.click();
  await expect(problems).toContainText('not JSON');

  await editor.fill('[1, 2]');
  await dashboard.submitButton.click();
  await expect(problems).toContainText('parameters: must be a JSON object');

  await editor.fill('{"anything": ["goes", 1]}');
  await dashboard.submitButton.click();
  await expect(dashboard.submitStatus).toHaveAttribute('data-task-id', /[0-9a-f-]{36}/);
  const id = (await dashboard.submitStatus.getAttribute('data-task-id')) ?? '';
  await expect(problems).toBeEmpty();
  await work(page, request, id, 'blob', { anything: ['goes', 1] });
});
