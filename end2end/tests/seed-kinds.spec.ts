// Each of the seed's task kinds, submitted through the form, runs to SUCCESS and its
// result is shown for people on the detail page.
import { expect, test } from '@playwright/test';
import { DashboardPage } from './fixtures/dashboard-page';
import { TaskPage } from './fixtures/task-page';

const kinds: Array<{ kind: string; params: Record<string, string>; result: string }> = [
  { kind: 'data_processing', params: { rows: '300', pace_ms: '0' }, result: 'result-statistics' },
  { kind: 'email_simulation', params: { count: '2', pace_ms: '0' }, result: 'result-messages' },
  { kind: 'image_processing', params: { count: '2', size: '64', pace_ms: '0' }, result: 'result-images' },
];

for (const { kind, params, result } of kinds) {
  test(`${kind} submitted through the form succeeds and shows its result`, async ({ page }) => {
    const dashboard = new DashboardPage(page);
    await dashboard.goto();
    const id = await dashboard.submit(kind, params);
    await expect(dashboard.status(id)).toHaveText(/SUCCESS/, { timeout: 60_000 });

    const detail = new TaskPage(page);
    await detail.goto(id);
    await expect(detail.status).toHaveText(/SUCCESS/);
    await expect(page.getByTestId(result)).toBeVisible();
    if (kind === 'image_processing') {
      const images = page.getByTestId(result).locator('img');
      await expect(images).toHaveCount(2);
      // The thumbnails really load.
      await expect.poll(() => images.first().evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(32);
    }
  });
}
