/**
 * `npm run bench:inference`: the inference SDK against plain TF.js in headless Chromium, on the
 * same model and backend in the same page (predict p50/p95), the time from loadModel to a first
 * prediction with a cold and a warm IndexedDB cache, and the SDK's gzipped size beside TF.js's.
 * Writes bench/results/inference.json and the `## Inference` section of docs/BENCHMARKS.md.
 * Options: --iterations N (default 300), --backends webgpu,webgl,wasm, --runs N (default 3).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { jobSpecSchema } from '@gridtab/shared';
import { chromium } from '@playwright/test';
import { build } from 'vite';
import { commitVersion } from '../coordinator/src/registry/testing.ts';
import { createJob } from '../coordinator/src/scheduler/jobs.ts';
import { startTestCoordinator, TEST_JOB } from '../coordinator/src/testing.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/chromium.ts';
import { machine, writeResults } from './report.ts';

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '300' },
    backends: { type: 'string', default: 'webgpu,webgl,wasm' },
    runs: { type: 'string', default: '3' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('Usage: npm run bench:inference -- [--iterations N] [--backends webgpu,webgl,wasm] [--runs N]');
  process.exit(0);
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const median = (xs: number[]) => quantile(xs, 0.5);
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** Minified ES bundle of `entry` with `external` left out, gzipped, in bytes. */
async function gzippedSize(name: string, source: string, external: (string | RegExp)[]) {
  const dir = mkdtempSync(join(tmpdir(), 'gridtab-size-'));
  const entry = join(root, `bench/.size-${name}.ts`);
  writeFileSync(entry, source);
  try {
    await build({
      configFile: false,
      logLevel: 'warn',
      root,
      build: {
        outDir: dir,
        emptyOutDir: true,
        target: 'es2022',
        minify: true,
        lib: { entry, formats: ['es'], fileName: name },
        rollupOptions: { external },
      },
    });
    let raw = 0;
    let gz = 0;
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
      const bytes = readFileSync(join(dir, f));
      raw += bytes.length;
      gz += gzipSync(bytes, { level: 9 }).length;
    }
    return { raw, gzip: gz };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(entry, { force: true });
  }
}

async function sizes() {
  const sdk = `export * from '@gridtab/client/inference';`;
  return {
    sdk: await gzippedSize('sdk', sdk, [/^@tensorflow\//, /^socket\.io-client/]),
    sdkWithSocketIo: await gzippedSize('sdk-socketio', sdk, [/^@tensorflow\//]),
    tfjs: await gzippedSize('tfjs', `export * from '@tensorflow/tfjs';`, []),
    tfjsBackendWebgpu: await gzippedSize('webgpu', `export * from '@tensorflow/tfjs-backend-webgpu';`, [
      /^@tensorflow\/tfjs-core/,
    ]),
  };
}

async function main() {
  const size = await sizes();
  console.log('gzipped bytes', JSON.stringify(size));

  const pageDir = mkdtempSync(join(tmpdir(), 'gridtab-bench-page-'));
  await build({
    configFile: false,
    logLevel: 'warn',
    root: join(root, 'bench/inference-page'),
    build: { outDir: pageDir, target: 'es2022', emptyOutDir: true, chunkSizeWarningLimit: 8192 },
  });
  const co = await startTestCoordinator({ staticDir: pageDir });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    const job = await createJob(co, jobSpecSchema.parse({ ...TEST_JOB, name: 'bench' }));
    const version = await commitVersion(co, job.id, 0.5);
    await co.registry.moveAlias('bench', 'production', { versionId: version.id });

    const open = async (context: Awaited<ReturnType<typeof browser.newContext>>) => {
      // Cross-origin isolation gives performance.now() microsecond resolution (0.1 ms without),
      // which sub-millisecond predicts need; it applies to the SDK and plain TF.js alike.
      await context.route(`${co.url}/index.html`, async (route) => {
        const res = await route.fetch();
        await route.fulfill({
          response: res,
          headers: {
            ...res.headers(),
            'cross-origin-opener-policy': 'same-origin',
            'cross-origin-embedder-policy': 'require-corp',
          },
        });
      });
      const page = await context.newPage();
      await page.goto(`${co.url}/index.html`);
      await page.waitForFunction(() => (window as unknown as { benchReady?: boolean }).benchReady === true);
      return page;
    };
    type Bench = {
      firstPrediction(b: string): Promise<{ ms: number; backend: string }>;
      compare(
        b: string,
        n: number,
      ): Promise<{ backend: string; sdk: number[]; plain: number[]; maxDiff: number }>;
    };
    const call = <K extends keyof Bench>(
      page: Awaited<ReturnType<typeof open>>,
      k: K,
      ...args: Parameters<Bench[K]>
    ) =>
      page.evaluate(
        ([k, args]) =>
          (window as unknown as { bench: Record<string, (...a: unknown[]) => unknown> }).bench[k as string](
            ...(args as unknown[]),
          ),
        [k, args] as const,
      ) as ReturnType<Bench[K]>;

    const predict = [];
    const firstPrediction = [];
    for (const backend of values.backends!.split(',')) {
      const context = await browser.newContext();
      const page = await open(context);
      const r = await call(page, 'compare', backend, Number(values.iterations));
      const row = {
        backend: r.backend,
        iterations: r.sdk.length,
        sdk: { p50: round(median(r.sdk), 3), p95: round(quantile(r.sdk, 0.95), 3) },
        plain: { p50: round(median(r.plain), 3), p95: round(quantile(r.plain, 0.95), 3) },
        ratioP50: round(median(r.sdk) / median(r.plain), 3),
        ratioP95: round(quantile(r.sdk, 0.95) / quantile(r.plain, 0.95), 3),
        maxAbsDiff: r.maxDiff,
      };
      console.log('predict', JSON.stringify(row));
      predict.push(row);
      await context.close();

      const cold: number[] = [];
      const warm: number[] = [];
      for (let run = 0; run < Number(values.runs); run++) {
        const ctx = await browser.newContext(); // a fresh profile: empty IndexedDB
        const p = await open(ctx);
        cold.push((await call(p, 'firstPrediction', backend)).ms);
        await p.reload();
        await p.waitForFunction(() => (window as unknown as { benchReady?: boolean }).benchReady === true);
        warm.push((await call(p, 'firstPrediction', backend)).ms);
        await ctx.close();
      }
      const ttfp = {
        backend: r.backend,
        coldMs: round(median(cold), 1),
        warmMs: round(median(warm), 1),
        cold,
        warm,
      };
      console.log('first prediction', JSON.stringify(ttfp));
      firstPrediction.push(ttfp);
    }
    const result = {
      machine: machine(),
      model: 'fashion-mlp (784-128-10), batch 1',
      size,
      predict,
      firstPrediction,
    };
    console.log(`wrote ${writeResults('inference', result)}`);
    writeSection(result);
  } finally {
    await browser.close();
    await co.destroy();
    rmSync(pageDir, { recursive: true, force: true });
  }
}

/** Replaces (or appends) the `## Inference` section, leaving other sections alone. */
function writeSection(r: {
  machine: ReturnType<typeof machine>;
  size: Awaited<ReturnType<typeof sizes>>;
  predict: {
    backend: string;
    iterations: number;
    sdk: { p50: number; p95: number };
    plain: { p50: number; p95: number };
    ratioP50: number;
    ratioP95: number;
  }[];
  firstPrediction: { backend: string; coldMs: number; warmMs: number }[];
}) {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  const lines = [
    '## Inference',
    '',
    `\`npm run bench:inference\` on ${r.machine.cpu} (${r.machine.cores} cores), ${r.machine.chromium}, ${r.machine.date.slice(0, 10)}.`,
    "The fashion-mlp preset (784-128-10), batch 1, in one headless Chromium page: the SDK's `model.predict(Float32Array)`",
    '(telemetry on) against plain TF.js (`tf.tensor`, `model.predict`, `await data()`) on the same backend, interleaved call by call.',
    'First prediction: from `loadModel` to the first result, in a fresh profile (cold: weights downloaded) and after a reload',
    '(warm: weights from IndexedDB); both include starting the TF.js backend. Medians of the runs. The page is cross-origin',
    'isolated for timer resolution (wasm kept single-threaded, as on an ordinary page). Results: `bench/results/inference.json`.',
    'WebGPU here is SwiftShader (a CPU adapter) and the cores are shared with other work, so absolute times move from run',
    'to run (an earlier run: webgpu p50 35 ms); the ratios, measured interleaved in one page, are the figure to read.',
    '',
    '| backend | SDK p50 ms | TF.js p50 ms | p50 ratio | SDK p95 ms | TF.js p95 ms | p95 ratio | first prediction cold ms | warm ms |',
    '|---|---|---|---|---|---|---|---|---|',
    ...r.predict.map((p, i) => {
      const f = r.firstPrediction[i];
      return `| ${p.backend} | ${p.sdk.p50} | ${p.plain.p50} | ${p.ratioP50} | ${p.sdk.p95} | ${p.plain.p95} | ${p.ratioP95} | ${f.coldMs} | ${f.warmMs} |`;
    }),
    '',
    '| bundle (minified ES, gzip -9) | gzipped | raw |',
    '|---|---|---|',
    `| SDK (\`@gridtab/client/inference\`, TF.js and socket.io-client external) | ${kb(r.size.sdk.gzip)} | ${kb(r.size.sdk.raw)} |`,
    `| SDK with socket.io-client | ${kb(r.size.sdkWithSocketIo.gzip)} | ${kb(r.size.sdkWithSocketIo.raw)} |`,
    `| \`@tensorflow/tfjs\` (core, layers, converter, data, cpu and webgl backends) | ${kb(r.size.tfjs.gzip)} | ${kb(r.size.tfjs.raw)} |`,
    `| \`@tensorflow/tfjs-backend-webgpu\` | ${kb(r.size.tfjsBackendWebgpu.gzip)} | ${kb(r.size.tfjsBackendWebgpu.raw)} |`,
    '',
  ];
  const path = resolve(root, 'docs/BENCHMARKS.md');
  let text = readFileSync(path, 'utf8');
  const body = lines.join('\n');
  const start = text.indexOf('\n## Inference');
  if (start < 0) text = `${text.trimEnd()}\n\n${body}`;
  else {
    const next = text.indexOf('\n## ', start + 1);
    text = `${text.slice(0, start + 1)}${body}${next < 0 ? '' : `\n${text.slice(next + 1)}`}`;
  }
  writeFileSync(path, text);
}

await main();
process.exit(0);
