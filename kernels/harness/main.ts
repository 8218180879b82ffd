/**
 * Browser harness: the same correctness suite as the Node tests, on the page's own WebGPU adapter
 * and on TF.js's cpu backend, published on `window.__kernels` for the Playwright spec. With
 * `?bench` (optionally `?bench=smoke` for the demo-model shapes only) it also runs the kernel
 * benchmark, unchanged from Node.
 */
import * as tf from '@tensorflow/tfjs';
import { runKernelBench, toMarkdown } from '../src/bench/run.ts';
import { registerWebGPU, runSuite, verifyKernels } from '../src/index.ts';
import { SUITES } from '../src/suite/suites.ts';
import { kernelSupport } from '../src/verify.ts';

const out = document.getElementById('out') as HTMLPreElement;
const log = (line: string) => {
  out.textContent += `${line}\n`;
};

async function main() {
  out.textContent = '';
  const gpu = navigator.gpu;
  if (!gpu || !(await registerWebGPU(gpu))) throw new Error('no WebGPU adapter on this page');
  await tf.setBackend('webgpu');
  const webgpu = await verifyKernels();
  const support = kernelSupport();
  log(`webgpu: ${webgpu.filter((r) => r.ok).length}/${webgpu.length} checks passed`);
  await tf.setBackend('cpu');
  const cpu = await runSuite(SUITES);
  log(`cpu: ${cpu.filter((r) => r.ok).length}/${cpu.length} checks passed`);
  const params = new URLSearchParams(location.search);
  let bench: string | undefined;
  if (params.has('bench')) {
    await tf.setBackend('webgpu');
    const smoke = params.get('bench') === 'smoke';
    const report = await runKernelBench({
      log,
      budgetMs: smoke ? 100 : undefined,
      // The demo MLP's shapes: conv cases take minutes on a CPU adapter, too long for a smoke run.
      filter: smoke ? (c) => c.demo : undefined,
    });
    bench = toMarkdown(report);
  }
  return { support, webgpu, cpu, bench };
}

const w = window as unknown as { __kernels?: unknown; __kernelsError?: string };
main().then(
  (r) => {
    w.__kernels = r;
  },
  (e: unknown) => {
    w.__kernelsError = e instanceof Error ? `${e.message}\n${e.stack}` : String(e);
    log(`error: ${w.__kernelsError}`);
  },
);
