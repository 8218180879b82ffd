/**
 * The kernel correctness suite in headless Chromium's WebGPU (SwiftShader on a machine without a
 * GPU): a Vite dev server started here serves kernels/harness/, whose page runs the same suite
 * as the Node tests and publishes the results. Launch options are set here too, so the spec also
 * runs under a config that does not set them.
 */
import { resolve } from 'node:path';
import { expect } from '@playwright/test';
import { createServer, type ViteDevServer } from 'vite';
import { test } from './diagnose.ts';

const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--disable-vulkan-fallback-to-gl-for-testing',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

test.use({ launchOptions: { executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS } });

interface Check {
  op: string;
  case: string;
  output: string;
  ok: boolean;
  tolerance: string;
  got: number;
  want: number;
}

interface HarnessResult {
  support: {
    backend: string;
    adapter: Record<string, string> | null;
    kernels: Array<{ name: string; state: string }>;
  };
  webgpu: Check[];
  cpu: Check[];
  bench?: string;
}

let server: ViteDevServer;
let origin: string;

test.beforeAll(async () => {
  server = await createServer({
    root: resolve(import.meta.dirname, '../kernels/harness'),
    configFile: false,
    logLevel: 'error',
    // http://localhost is a secure context, which WebGPU requires.
    server: { host: 'localhost', port: 0, strictPort: false },
  });
  await server.listen();
  origin = server.resolvedUrls?.local[0] ?? '';
  expect(origin).toMatch(/^http:\/\/localhost:\d+/);
});

test.afterAll(async () => {
  await server?.close();
});

async function runHarness(page: import('@playwright/test').Page, query = ''): Promise<HarnessResult> {
  page.on('console', (m) => {
    if (m.type() === 'error') console.log(`[page] ${m.text()}`);
  });
  await page.goto(`${origin}${query}`);
  await page.waitForFunction(
    () => {
      const w = window as unknown as { __kernels?: unknown; __kernelsError?: string };
      return w.__kernels !== undefined || w.__kernelsError !== undefined;
    },
    undefined,
    // The full suite (conv cases included) compiles dozens of shaders on SwiftShader: minutes on a
    // loaded 2-core machine. No timing is asserted; this only bounds a hung page.
    { timeout: 540_000 },
  );
  const error = await page.evaluate(() => (window as unknown as { __kernelsError?: string }).__kernelsError);
  expect(error).toBeUndefined();
  return page.evaluate(() => (window as unknown as { __kernels: HarnessResult }).__kernels);
}

const failures = (checks: Check[]) =>
  checks
    .filter((c) => !c.ok)
    .map((c) => `${c.op}/${c.case}/${c.output}: got ${c.got} want ${c.want} (${c.tolerance})`);

test.describe('kernels in Chromium', () => {
  test('every kernel passes the correctness suite on the page WebGPU adapter and on cpu', async ({
    page,
  }) => {
    test.setTimeout(600_000);
    const r = await runHarness(page);
    expect(r.support.backend).toBe('webgpu');
    expect(r.webgpu.length).toBeGreaterThan(50);
    expect(failures(r.webgpu)).toEqual([]);
    expect(failures(r.cpu)).toEqual([]);
    expect(r.support.kernels.map((k) => k.state)).toEqual(r.support.kernels.map(() => 'passed'));
    console.log(`adapter: ${JSON.stringify(r.support.adapter)}; ${r.webgpu.length} webgpu checks`);
  });

  test('the kernel benchmark runs unchanged in the page', async ({ page }) => {
    test.setTimeout(600_000);
    const r = await runHarness(page, '/?bench=smoke');
    expect(r.bench).toContain('| dense forward (matmul+bias+relu) | 64x784 . 784x128 |');
  });
});
