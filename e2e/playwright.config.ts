/**
 * Playwright drives Debian's Chromium (no browser download: `npx playwright install` cannot
 * run here). WebGPU works headless on SwiftShader with these flags; WebGL needs
 * --enable-unsafe-swiftshader in current Chromium.
 */
import { defineConfig } from '@playwright/test';

export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--disable-vulkan-fallback-to-gl-for-testing',
  '--enable-unsafe-swiftshader',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  // Several contributor tabs share one window; keep background tabs at full speed.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

export default defineConfig({
  testDir: '.',
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
    launchOptions: { executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS },
  },
});
