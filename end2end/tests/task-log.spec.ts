// A task's log on its page, as an operator follows it: lines appear while the task runs,
// the view keeps to the newest line until "Follow" is turned off, and lines the server
// dropped (beyond its per-task bound) show as a marker. The lines are written by an
// external worker over REST, so the test decides exactly what and when.
import { APIRequestContext, expect, test } from '@playwright/test';
import { submitTask } from './fixtures/api';
import { TaskPage } from './fixtures/task-page';

/** Submits a `blob` task to a queue of its own and claims it as a worker would. */
async function runningTask(request: APIRequestContext, queue: string): Promise<{ id: string; attempt: number }> {
  const task = await submitTask(request, { task_type: 'blob', queue, parameters: {} });
  const claim = await request.post('/api/workers/claim', { data: { worker: 'e2e-log', queues: [queue] } });
  expect(claim.status()).toBe(200);
  const [work] = await claim.json();
  expect(work.id).toBe(task.id);
  return { id: task.id, attempt: work.attempt };
}

async function append(request: APIRequestContext, id: string, attempt: number, messages: string[]) {
  const lines = messages.map((message) => ({ message, level: message.startsWith('oops') ? 'error' : 'info' }));
  const response = await request.post(`/api/workers/tasks/${id}/logs`, { data: { attempt, lines } });
  expect(response.status(), await response.text()).toBe(204);
}

const numbered = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}`);

test('lines appear while the task runs and the view follows the newest', async ({ page, request }) => {
  const { id, attempt } = await runningTask(request, 'log-follow');
  const taskPage = new TaskPage(page);
  await taskPage.goto(id);
  await expect(page.getByTestId('log-empty')).toHaveText('No lines yet.');

  await append(request, id, attempt, ['oops: first try failed']);
  const lines = page.getByTestId('log-line');
  await expect(lines).toHaveCount(1);
  await expect(lines.first()).toContainText('oops: first try failed');
  await expect(lines.first().locator('.log-level')).toHaveText('error');

  await append(request, id, attempt, numbered(2, 200));
  await expect(lines).toHaveCount(200);
  await expect(lines.last()).toContainText('line 200');
  const log = page.getByTestId('task-log');
  const atBottom = () => log.evaluate((el) => el.scrollTop + el.clientHeight >= el.scrollHeight - 2);
  await expect.poll(atBottom).toBe(true);

  // Not following: the reader's place stays where it is as lines arrive.
  await page.getByTestId('log-follow').uncheck();
  await log.evaluate((el) => (el.scrollTop = 0));
  await append(request, id, attempt, numbered(201, 260));
  await expect(lines).toHaveCount(260);
  // The view scrolls in an animation frame: give it two before looking.
  const afterTwoFrames = () =>
    log.evaluate(
      (el) =>
        new Promise<number>((resolve) =>
          requestAnimationFrame(() => requestAnimationFrame(() => resolve(el.scrollTop))),
        ),
    );
  expect(await afterTwoFrames()).toBe(0);

  const done = await request.post(`/api/workers/tasks/${id}/complete`, { data: { attempt, result: {} } });
  expect(done.status()).toBe(204);
  await expect(taskPage.status).toHaveText(/SUCCESS/);
  await expect(lines).toHaveCount(260);
  await expect(page.getByTestId('log-gap')).toHaveCount(0);
});

test('lines dropped beyond the bound show as a marker before the oldest kept', async ({ page, request }) => {
  const { id, attempt } = await runningTask(request, 'log-bound');
  // 1,200 lines; the server keeps the newest 1,000.
  await append(request, id, attempt, numbered(1, 600));
  await append(request, id, attempt, numbered(601, 1200));
  const taskPage = new TaskPage(page);
  await taskPage.goto(id);
  await expect(page.getByTestId('log-gap')).toHaveText('… 200 line(s) dropped');
  const lines = page.getByTestId('log-line');
  await expect(lines).toHaveCount(1000);
  await expect(lines.first()).toContainText('line 201');
  await expect(lines.last()).toContainText('line 1200');
});
