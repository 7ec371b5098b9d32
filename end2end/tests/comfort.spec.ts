// Comfort for the operator: times in the viewer's own zone with UTC on hover, raw JSON
// of a task's parameters and result with a copy button, and keyboard shortcuts for
// search, paging and refreshing, listed on a `?` overlay.
import { expect, test } from '@playwright/test';
import { submitTask, waitForStatus } from './fixtures/api';

// A zone far from UTC, so a time left in UTC would be caught.
test.use({ timezoneId: 'Asia/Tokyo', locale: 'en-US' });

test('a task page shows its times in the viewer zone and its raw JSON, copied on request', async ({ page, request, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const parameters = { rows: 20 };
  const task = await submitTask(request, { task_type: 'data_processing', parameters });
  await waitForStatus(request, task.id, ['SUCCESS']);
  await page.goto(`/tasks/${task.id}`);
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();

  const created = page.getByTestId('task-detail').getByTestId('local-time').first();
  await expect(created).toHaveAttribute('title', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC$/);
  await expect(created).not.toContainText('UTC');
  // Tokyo is UTC+9: the hour shown is nine after the hour in the title.
  const title = (await created.getAttribute('title')) ?? '';
  const utcHour = Number(title.slice(11, 13));
  const shown = (await created.textContent()) ?? '';
  const hour = Number(/(\d\d):\d\d:\d\d/.exec(shown)?.[1]);
  const pm = /PM/.test(shown) && hour !== 12 ? 12 : 0;
  const am12 = /AM/.test(shown) && hour === 12 ? -12 : 0;
  expect((hour + pm + am12) % 24, `${shown} vs ${title}`).toBe((utcHour + 9) % 24);

  const raw = page.getByTestId('raw-parameters');
  await raw.getByText('Raw JSON').click();
  await expect(raw.locator('pre')).toContainText('"rows": 20');
  await raw.getByTestId('copy-json').click();
  await expect(raw.getByRole('status')).toHaveText('Copied.');
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  // What is stored, defaults filled in.
  const stored = await (await request.get(`/api/tasks/${task.id}`)).json();
  expect(stored.parameters.rows).toBe(parameters.rows);
  expect(JSON.parse(copied)).toEqual(stored.parameters);
  await expect(page.getByTestId('raw-result')).toBeVisible();

  // The audit page's times are the viewer's too.
  const later = await submitTask(request, { task_type: 'noop', delay_ms: 3_600_000 });
  expect((await request.post(`/api/tasks/${later.id}/run-now`)).ok()).toBe(true);
  await page.goto('/audit');
  const when = page.locator(`[data-testid="audit-entry"][data-task-id="${later.id}"]`).getByTestId('local-time');
  await expect(when).toHaveAttribute('title', /UTC$/);
  await expect(when).not.toContainText('UTC');
});

test('keyboard shortcuts search, page and pause, and ? lists them', async ({ page, request }) => {
  const queue = `keys-${Date.now()}`;
  const tasks = Array.from({ length: 51 }, () => ({ task_type: 'noop', queue, delay_ms: 3_600_000 }));
  const batch = await request.post('/api/tasks/batch', { data: tasks });
  expect(batch.ok(), await batch.text()).toBe(true);

  await page.goto(`/tasks?queue=${queue}`);
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
  await expect(page.getByTestId('task-row')).toHaveCount(50);
  await page.keyboard.press('n');
  await expect(page).toHaveURL(/cursor=/);
  await expect(page.getByTestId('task-row')).toHaveCount(1);
  await page.keyboard.press('f');
  await expect(page).not.toHaveURL(/cursor=/);
  await expect(page.getByTestId('task-row')).toHaveCount(50);

  await page.keyboard.press('/');
  await expect(page.getByTestId('filter-q')).toBeFocused();
  // Typed into a field, a shortcut's key is just a letter.
  await page.keyboard.type('nr');
  await expect(page.getByTestId('filter-q')).toHaveValue('nr');
  await expect(page).not.toHaveURL(/cursor=/);
  await page.getByTestId('filter-q').blur();

  const toggle = page.getByTestId('refresh-toggle');
  await page.keyboard.press('r');
  await expect(toggle).toHaveAttribute('aria-pressed', 'true');
  await page.keyboard.press('r');
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');

  await page.keyboard.press('?');
  const overlay = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await expect(overlay).toBeVisible();
  await expect(overlay).toContainText('Next page');
  await page.keyboard.press('Escape');
  await expect(overlay).toBeHidden();
  await page.getByRole('button', { name: 'Keyboard shortcuts' }).click();
  await expect(overlay).toBeVisible();
  await overlay.getByRole('button', { name: 'Close' }).click();
  await expect(overlay).toBeHidden();
});
