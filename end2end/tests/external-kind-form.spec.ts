// A kind external workers run, submitted through the form's JSON editor: the server's
// schema problems listed under it, text that is not JSON refused before sending, and a
// valid submit taken and finished by a worker over REST.
import { expect, test } from '@playwright/test';
import { DashboardPage } from './fixtures/dashboard-page';
import { TaskPage } from './fixtures/task-page';

test('the JSON editor submits an external kind and shows what the schema refuses', async ({ page, request }) => {
  const dashboard = new DashboardPage(page);
  await dashboard.goto();
  await dashboard.taskType.selectOption('resize');
  const editor = page.getByTestId('param-json');
  const problems = page.getByTestId('json-errors');

  await editor.fill('{"width": 8');
  await dashboard.submitButton.click();
  await expect(problems).toContainText('not JSON');

  await editor.fill('{"width": 8}');
  await dashboard.submitButton.click();
  await expect(problems).toContainText('"path" is a required property');
  await expect(problems).toContainText('parameters.width: 8 is less than the minimum of 16');

  await editor.fill('{"path": "a.png", "width": 64}');
  await dashboard.submitButton.click();
  await expect(dashboard.submitStatus).toHaveAttribute('data-task-id', /[0-9a-f-]{36}/);
  const id = (await dashboard.submitStatus.getAttribute('data-task-id')) ?? '';
  await expect(problems).toBeEmpty();

  const claim = await request.post('/api/workers/claim', { data: { worker: 'e2e', queues: ['resize'] } });
  expect(claim.status()).toBe(200);
  const [work] = await claim.json();
  expect(work.id).toBe(id);
  expect(work.parameters).toEqual({ path: 'a.png', width: 64 });
  const done = await request.post(`/api/workers/tasks/${id}/complete`, {
    data: { attempt: work.attempt, result: { resized: 'a-64.png' } },
  });
  expect(done.status()).toBe(204);

  const detail = new TaskPage(page);
  await detail.goto(id);
  await expect(detail.status).toHaveText(/SUCCESS/);
  await expect(page.locator('main')).toContainText('a-64.png');
});
