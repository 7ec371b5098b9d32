// Every page is usable on a phone: at 375 px wide, nothing makes the page scroll
// sideways (wide tables scroll inside their own box instead).
import { expect, test } from '@playwright/test';
import { submitTask, waitForStatus } from './fixtures/api';

test.use({ viewport: { width: 375, height: 740 } });

test('no page scrolls sideways at 375 px', async ({ page, request }) => {
  const task = await submitTask(request, { task_type: 'data_processing', parameters: { rows: 50, pace_ms: 0 } });
  await waitForStatus(request, task.id, ['SUCCESS']);
  // The longest queue name there can be, shown on the overview, the list and the queues page.
  await submitTask(request, { task_type: 'noop', queue: 'q'.repeat(64), delay_ms: 600_000 });
  const made = await request.put('/api/schedules/narrow-hourly', { data: { cron: '0 * * * *', task: { task_type: 'noop' } } });
  expect([200, 201]).toContain(made.status());
  for (const url of ['/', '/tasks', `/tasks/${task.id}`, '/queues', '/processes', '/charts', '/schedules', '/audit']) {
    await page.goto(url);
    await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
    const overflow = await page.evaluate(() => {
      const root = document.scrollingElement ?? document.documentElement;
      return root.scrollWidth - root.clientWidth;
    });
    expect(overflow, `${url} scrolls sideways by ${overflow} px`).toBeLessThanOrEqual(0);
  }
});
