/**
 * How GridTab starts Debian's Chromium headless (tests, the demo, benchmarks). WebGPU runs on
 * SwiftShader with these flags; WebGL needs --enable-unsafe-swiftshader in current Chromium.
 */
import type { BrowserContext, Page } from '@playwright/test';
export const CHROMIUM_PATH = '/usr/bin/chromium';

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

/**
 * Opens `count` pages at `url`, each in a window of its own, as contributors on their own
 * machines would have them: in front. Tabs of one window (what `context.newPage()` makes) are
 * not equal here: Chromium runs the renderers of the tabs not in front at nice 5 whatever
 * --disable-renderer-backgrounding says, so with three CPU-bound tabs on two cores the front
 * one had a core to itself and the other two shared the second (a busy loop in each, measured
 * 2026-12-07: 5.2-6.4k iterations against 10-11.9k; in windows of their own 7.4-8.8k each, all
 * at nice 0). Each window is a popup opened with noopener from a blank page, which is then closed.
 */
export async function openInWindows(context: BrowserContext, url: string, count: number): Promise<Page[]> {
  const opener = await context.newPage();
  const pages: Page[] = [];
  for (let i = 0; i < count; i++) {
    const [page] = await Promise.all([
      context.waitForEvent('page'),
      opener.evaluate((u) => {
        window.open(u, '_blank', 'popup,noopener');
      }, url),
    ]);
    pages.push(page);
  }
  await opener.close();
  await Promise.all(pages.map((p) => p.waitForLoadState()));
  return pages;
}
