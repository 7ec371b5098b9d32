// Schedules in the dashboard: made in a form that explains the timing as it is typed,
// shown with their next runs in the viewer's own time zone, paused, run by hand,
// resumed, edited and deleted.
import { expect, test, type APIRequestContext } from '@playwright/test';
import { SchedulesPage } from './fixtures/schedules-page';

// A zone far from UTC, so a time shown in UTC would be caught.
test.use({ timezoneId: 'Asia/Tokyo', locale: 'en-US' });

async function getSchedule(request: APIRequestContext, name: string) {
  return request.get(`/api/schedules/${name}`);
}

test('a schedule made in the form is explained as it is typed and its runs shown in the viewer\'s zone', async ({ page, request }) => {
  const name = `nightly-${Date.now()}`;
  const schedules = new SchedulesPage(page);
  await schedules.goto();
  await page.getByTestId('new-schedule').click();
  const form = schedules.form();
  await expect(form.getByTestId('schedule-timezone')).toHaveValue('Asia/Tokyo');

  await form.getByTestId('schedule-name').fill(name);
  await form.getByTestId('schedule-cron').fill('61 * * * *');
  await expect(form.getByTestId('timing-error')).toContainText('cron');
  await form.getByTestId('schedule-cron').fill('0 2 * * *');
  await form.getByTestId('schedule-timezone').fill('UTC');
  await expect(form.getByTestId('timing-next').locator('li')).toHaveCount(5);
  await expect(form.getByTestId('timing-description')).not.toBeEmpty();
  // 02:00 UTC is 11:00 in Tokyo.
  await expect(form.getByTestId('timing-next').locator('li').first()).toContainText('11:00:00');

  await form.getByTestId('schedule-task-type').selectOption('noop');
  await form.getByTestId('schedule-save').click();
  await expect(schedules.form()).toHaveCount(0);
  const row = schedules.row(name);
  await expect(row).toHaveAttribute('data-enabled', 'true');
  await expect(row.getByTestId('schedule-next').locator('li').first()).toContainText('11:00:00');
  const stored = await (await getSchedule(request, name)).json();
  expect(stored.definition.cron).toBe('0 2 * * *');
  expect(stored.definition.timezone).toBe('UTC');
  expect(stored.source).toBe('api');
});

test('a bad schedule is refused in the form and nothing is stored', async ({ page, request }) => {
  const name = `bad-${Date.now()}`;
  const schedules = new SchedulesPage(page);
  await schedules.goto();
  await page.getByTestId('new-schedule').click();
  const form = schedules.form();
  await form.getByTestId('schedule-name').fill(name);
  await form.getByTestId('schedule-parameters').fill('{"rows": ');
  await form.getByTestId('schedule-save').click();
  await expect(form.getByTestId('schedule-form-error')).toContainText('not JSON');
  await form.getByTestId('schedule-parameters').fill('{}');
  await form.getByTestId('schedule-cron').fill('0 0 30 2 *');
  await form.getByTestId('schedule-save').click();
  await expect(form.getByTestId('schedule-form-error')).toContainText('timing');
  expect((await getSchedule(request, name)).status()).toBe(404);
});

test('a schedule is paused, run by hand, resumed, edited and deleted from its row', async ({ page, request }) => {
  const name = `hourly-${Date.now()}`;
  const made = await request.put(`/api/schedules/${name}`, {
    data: { cron: '0 * * * *', task: { task_type: 'noop' } },
  });
  expect(made.status(), await made.text()).toBe(201);
  const schedules = new SchedulesPage(page);
  await schedules.goto();
  const row = schedules.row(name);

  await row.getByTestId('schedule-toggle').click();
  await expect(row).toHaveAttribute('data-enabled', 'false');
  expect((await (await getSchedule(request, name)).json()).definition.enabled).toBe(false);

  await row.getByTestId('schedule-run-now').click();
  const run = row.locator('[data-testid="schedule-run"][data-manual="true"]');
  await expect(run).toHaveCount(1);
  await expect(run.getByTestId('task-status')).toContainText('SUCCESS', { timeout: 30_000 });

  await row.getByTestId('schedule-toggle').click();
  await expect(row).toHaveAttribute('data-enabled', 'true');

  await row.getByTestId('schedule-edit').click();
  const form = schedules.form();
  await expect(form.getByTestId('schedule-name')).toBeDisabled();
  await expect(form.getByTestId('schedule-cron')).toHaveValue('0 * * * *');
  await form.getByTestId('schedule-cron').fill('30 3 * * *');
  await form.getByTestId('schedule-save').click();
  await expect(schedules.form()).toHaveCount(0);
  await expect.poll(async () => (await (await getSchedule(request, name)).json()).definition.cron).toBe('30 3 * * *');

  await row.getByTestId('schedule-delete').click();
  await expect(row).toHaveCount(0);
  expect((await getSchedule(request, name)).status()).toBe(404);
});
