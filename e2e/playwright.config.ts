/**
 * Playwright drives Debian's Chromium (no browser download: `npx playwright install` cannot
 * run here); the flags are in chromium.ts.
 */
import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.ts';

export default defineConfig({
  testDir: '.',
  // Only the browser specs: e2e/integration/*.test.ts are vitest's (Node, no browser).
  testMatch: '**/*.spec.ts',
  outputDir: '../test-results/e2e',
  timeout: 5 * 60_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  // Two cores: tabs of one test already fill them.
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  reporter: [['list'], ['json', { outputFile: '../test-results/playwright.json' }]],
  use: {
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1280, height: 800 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
  },
});
