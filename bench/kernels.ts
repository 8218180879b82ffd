/**
 * Node launcher of the kernel benchmark (`npm run bench:kernels`): brings up WebGPU through Dawn
 * (SwiftShader when there is no GPU), verifies the kernels on that adapter, runs the browser-safe
 * benchmark in kernels/src/bench/, and writes bench/results/kernels.json and the `## Kernels`
 * section of docs/BENCHMARKS.md. Options: --profile=fallback|full, --budget-ms=N, --only=REGEX (rows
 * whose kernel name matches, case-insensitive: they replace the matching rows of the recorded
 * kernels.json and table, the other rows are kept with a note saying when each part was measured;
 * for measuring new kernels without re-timing the rest on a busy machine).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Profile } from '../kernels/src/bench/cases.ts';
import { type BenchReport, runKernelBench, TABLE_HEADER, toMarkdown } from '../kernels/src/bench/run.ts';
import { registerWebGPU, verifyKernels } from '../kernels/src/index.ts';
import { describeFailure } from '../kernels/src/suite/check.ts';
import { createNodeGpu } from '../kernels/src/testing/node-gpu.ts';

const root = resolve(import.meta.dirname, '..');
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];

/** Replaces (or appends) the `## Kernels` section, leaving other sections alone. */
function writeSection(path: string, body: string): void {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    text = '# Benchmarks\n';
  }
  const section = `## Kernels\n\n${body}\n`;
  const start = text.indexOf('\n## Kernels');
  if (start < 0) {
    text = `${text.trimEnd()}\n\n${section}`;
  } else {
    const next = text.indexOf('\n## ', start + 1);
    text = `${text.slice(0, start + 1)}${section}${next < 0 ? '' : `\n${text.slice(next + 1)}`}`;
  }
  writeFileSync(path, text);
}

/** The recorded report with the rows matching `only` replaced by this run's. */
function merged(path: string, fresh: BenchReport, only: RegExp): BenchReport {
  let old: BenchReport;
  try {
    old = JSON.parse(readFileSync(path, 'utf8')) as BenchReport;
  } catch {
    return fresh;
  }
  const kept = old.entries.filter((e) => !only.test(e.kernel));
  const load = (r: BenchReport) => (r.machine?.load ? `, load average ${r.machine.load}` : '');
  return {
    ...fresh,
    notes: [
      ...(fresh.notes ?? []),
      `Rows matching /${only.source}/i measured ${fresh.date}${load(fresh)}; the other rows ${old.date}${load(old)}` +
        (old.machine?.load ? '.' : ' (load not recorded).'),
    ],
    entries: [...kept, ...fresh.entries],
  };
}

async function main(): Promise<void> {
  const nodeGpu = await createNodeGpu();
  try {
    if (!(await registerWebGPU(nodeGpu.gpu))) throw new Error('no WebGPU adapter');
    await tf.setBackend('webgpu');
    const checks = await verifyKernels({ quick: true });
    const failed = checks.filter((c) => !c.ok);
    console.log(
      `kernel suite on this adapter: ${checks.length - failed.length}/${checks.length} checks passed`,
    );
    for (const c of failed) console.log(`  FAILED (kernel bypassed): ${describeFailure(c)}`);

    console.log(TABLE_HEADER[0]);
    const only = arg('only') ? new RegExp(arg('only') as string, 'i') : undefined;
    let report = await runKernelBench({
      profile: arg('profile') as Profile | undefined,
      budgetMs: arg('budget-ms') ? Number(arg('budget-ms')) : undefined,
      log: (line) => console.log(line),
      filter: only ? (c) => only.test(c.kernel) : undefined,
    });
    report.machine = {
      cpus: `${os.cpus().length} x ${os.cpus()[0]?.model.trim()}`,
      memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
      platform: `${os.platform()} ${os.release()}`,
      node: process.version,
      runtime: 'Node + Dawn (webgpu npm package)',
      // The machine is shared: the 1/5/15-minute load average at the end says how busy it was.
      load: os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' '),
    };
    if (report.fallbackAdapter) {
      report.notes = [
        'Caveat: a 2-core machine shared with other work; rows vary run to run (up to about 2x seen on the ' +
          'dense rows), so read ratios near 1 as "no clear difference". The issue\'s goals (dense and ' +
          'softmax-xent >= 1.5x TF.js, codecs <= 2x a copy) are about GPUs and need a GPU run.',
      ];
    }
    const json = resolve(root, 'bench/results/kernels.json');
    if (only) report = merged(json, report, only);
    mkdirSync(dirname(json), { recursive: true });
    writeFileSync(
      json,
      `${JSON.stringify({ ...report, suite: { checks: checks.length, failed: failed.map(describeFailure) } }, null, 2)}\n`,
    );
    writeSection(resolve(root, 'docs/BENCHMARKS.md'), toMarkdown(report));
    console.log(`wrote ${json} and docs/BENCHMARKS.md (## Kernels)`);
  } finally {
    tf.removeBackend('webgpu');
    nodeGpu.release();
  }
}

await main();
