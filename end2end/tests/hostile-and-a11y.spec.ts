// Strings that look like markup are shown as text, never run; every page passes an
// accessibility scan (axe-core) with no serious or critical violations. Screenshots of
// the main pages are kept as test artifacts.
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { submitTask, waitForStatus } from './fixtures/api';

const HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';

test('markup in the URL and in answers is rendered inert', async ({ page }) => {
  await page.goto(`/tasks?q=${encodeURIComponent(HOSTILE)}&queue=${encodeURIComponent(HOSTILE)}`);
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
  await expect(page.getByTestId('filter-q')).toHaveValue(HOSTILE);
  await expect(page.locator('img[src="x"]')).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  // The server's refusal (the query is too long for nothing, or shows as text) is inert too.
  await page.goto(`/tasks?q=${encodeURIComponent(HOSTILE.repeat(5))}`);
  await expect(page.getByTestId('load-error')).toContainText('q is longer than');
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
});

const AXE = readFileSync(path.join(__dirname, '..', 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

async function scan(page: Page): Promise<string[]> {
  // Evaluated by the test tool, not loaded by the page: the page's CSP (rightly) refuses
  // an inline script without its nonce, as `addScriptTag` would add.
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document) => Promise<{ violations: Array<{ id: string; impact: string; help: string; nodes: unknown[] }> }> } }).axe;
    const result = await axe.run(document);
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.length} nodes)`);
  });
}

test('every page passes an accessibility scan, and screenshots are kept', async ({ page, request }, testInfo) => {
  const task = await submitTask(request, { task_type: 'data_processing', parameters: { rows: 50, pace_ms: 0 } });
  await waitForStatus(request, task.id, ['SUCCESS']);
  const schedule = await request.put('/api/schedules/a11y-hourly', { data: { cron: '0 * * * *', task: { task_type: 'noop' } } });
  expect([200, 201]).toContain(schedule.status());
  expect((await request.post('/api/schedules/a11y-hourly/run')).status()).toBe(200);
  // An action, so the audit page and the task's history have an entry.
  const delayed = await submitTask(request, { task_type: 'noop', delay_ms: 600_000 });
  expect((await request.post(`/api/tasks/${delayed.id}/run-now`)).status()).toBe(200);
  for (const [name, url] of [
    ['overview', '/'],
    ['list', '/tasks'],
    ['detail', `/tasks/${task.id}`],
    ['queues', '/queues'],
    ['processes', '/processes'],
    ['charts', '/charts'],
    ['schedules', '/schedules'],
    ['audit', '/audit'],
    ['history', `/tasks/${delayed.id}`],
  ]) {
    await page.goto(url);
    await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
    if (name === 'detail') await expect(page.getByTestId('log-line')).toHaveCount(2);
    if (name === 'history') await expect(page.getByTestId('audit-entry')).toHaveCount(1);
    await page.screenshot({ path: testInfo.outputPath(`${name}.png`), fullPage: true });
    expect(await scan(page), `${name} (${url})`).toEqual([]);
  }
  // The schedule form, open, with its timing explained.
  await page.goto('/schedules');
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
  await page.getByTestId('new-schedule').click();
  await expect(page.getByTestId('timing-next').locator('li')).toHaveCount(5);
  expect(await scan(page), 'the schedule form').toEqual([]);
  // The keyboard shortcuts' overlay, open.
  await page.keyboard.press('?');
  await expect(page.getByTestId('shortcuts')).toBeVisible();
  expect(await scan(page), 'the shortcuts overlay').toEqual([]);
});
