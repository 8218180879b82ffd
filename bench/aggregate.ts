/**
 * `npm run bench:aggregate`: aggregation throughput, batch (the Aggregator rules, on the event
 * loop, every update in memory) against streaming (aggregation/streaming: folded as updates
 * arrive, in worker threads, robust rules spilled to a temp file), beside a memory copy of the
 * same bytes in the same process: every update copied once with TypedArray.set into one
 * destination, from the same buffers in the same order, so both sides read the same bytes from
 * the same place (not a cache-resident copy of one buffer over and over).
 *
 * Updates are drawn round-robin from a set of distinct random buffers (16, fewer for big models:
 * at most 512 MiB of them), so 1,000 updates of 1M parameters need 64 MiB of inputs and not
 * 4 GB; the batch rules get an array of 1,000 references to them. Each case runs in a child
 * process of its own, so its peak RSS (process.resourceUsage().maxRSS, worker threads included)
 * is its own; "aggregation memory" is that peak less the RSS once the inputs were made. The
 * event loop's longest stall is perf_hooks.monitorEventLoopDelay's maximum while closing the
 * round (for batch, the whole aggregate call, which is synchronous) and while folding. CPU is
 * process.cpuUsage (every thread) over the aggregation, beside the copy's CPU for the same bytes:
 * on a loaded machine, where wall-clock ratios mostly measure the other load, the CPU ratio says
 * what the work costs. The streaming intake keeps `--in-flight` updates folding at once (default
 * 2): the next update arrives while the one before is still being staged, as when tabs submit
 * faster than a round folds (the scheduler folds without awaiting), and it awaits the oldest fold
 * before sending another (the accumulator's back-pressure). 1 awaits each fold before the next.
 *
 * It ends with one line per goal (GOAL ... met / NOT MET): the mean at least 50% of the copy, the
 * longest stall while closing under 50 ms, and memory within the bound: 2x the model plus the
 * accumulator's bounded buffers (boundedBytes: staging, queue, spill buffers, blocks) plus the
 * result (the model once more).
 *
 * Options: --cases mean:1000000x1000,median:1000000x100,... (rule:paramsxupdates; rules mean,
 * trimmed-mean, median, centered-clip), --threads N (pool size; default the coordinator's own,
 * the cores less one for the event loop, at least 1: what a deployment runs), --in-flight N
 * (updates the streaming intake has folding at once, default 2), --out NAME (default aggregate). Writes bench/results/NAME.json and rows in docs/BENCHMARKS.md.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { AggregationSpec } from '@gridtab/shared';
import type { WeightedUpdate } from '../coordinator/src/aggregation/aggregator.ts';
import { aggregatorFor } from '../coordinator/src/aggregation/rules.ts';
import { AggregationPool, accumulatorFor } from '../coordinator/src/aggregation/streaming/index.ts';
import { defaultPoolSize } from '../coordinator/src/aggregation/streaming/pool.ts';
import { addRows, machine, writeResults } from './report.ts';

const DEFAULT_CASES = [
  'mean:1000000x1000',
  'trimmed-mean:1000000x100',
  'median:1000000x100',
  'mean:10000000x100',
  'median:10000000x10',
].join(',');

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: DEFAULT_CASES },
    threads: { type: 'string', default: String(defaultPoolSize()) },
    'in-flight': { type: 'string', default: '2' },
    out: { type: 'string', default: 'aggregate' },
    child: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

interface Case {
  rule: AggregationSpec['rule'];
  params: number;
  updates: number;
  mode: 'batch' | 'streaming';
  threads: number;
  /** Streaming folds the intake has outstanding at once (1: each awaited before the next). */
  inFlight: number;
}

interface Measured {
  seconds: number;
  gbPerS: number;
  copyGbPerS: number;
  ofCopy: number;
  foldSeconds: number;
  closeSeconds: number;
  closeStallMs: number;
  foldStallMs: number;
  idleStallMs: number;
  aggregationMemoryMB: number;
  boundMB: number | null;
  cpuSeconds: number;
  copyCpuSeconds: number;
  peakRssMB: number;
  modelMB: number;
  resultSha256: string;
}

const specOf = (rule: AggregationSpec['rule']): AggregationSpec =>
  rule === 'trimmed-mean'
    ? { rule, trim: 0.2 }
    : rule === 'centered-clip'
      ? { rule, iterations: 3 }
      : { rule };

function inputs(params: number, count: number): WeightedUpdate[] {
  const distinct = Math.max(2, Math.min(16, Math.floor((512 << 20) / (params * 4))));
  let seed = 12345;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  const buffers = Array.from({ length: distinct }, () => Float32Array.from({ length: params }, rand));
  return Array.from({ length: count }, (_, k) => ({
    delta: buffers[k % distinct],
    numSamples: 1 + ((k * 37) % 500),
  }));
}

/**
 * The longest stall of an idle event loop over half a second: on a machine shared with other
 * work, the floor under every stall figure (the process waits for a core, not for its own work).
 */
async function idleStall(): Promise<number> {
  const idle = monitorEventLoopDelay({ resolution: 1 });
  idle.enable();
  await new Promise((r) => setTimeout(r, 500));
  idle.disable();
  return idle.max / 1e6;
}

const cpuSince = (start: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1e6;
};

/** Copies every update once, as the aggregation reads it: GB/s of update bytes, and CPU seconds. */
function copyRate(ups: WeightedUpdate[], params: number): { gbPerS: number; cpuSeconds: number } {
  const dst = new Float32Array(params);
  let best = 0;
  let cpuSeconds = Number.POSITIVE_INFINITY;
  for (let rep = 0; rep < 3; rep++) {
    const t = performance.now();
    const cpu = process.cpuUsage();
    for (const u of ups) dst.set(u.delta);
    cpuSeconds = Math.min(cpuSeconds, cpuSince(cpu));
    best = Math.max(best, (ups.length * params * 4) / 1e9 / ((performance.now() - t) / 1000));
  }
  return { gbPerS: best, cpuSeconds };
}

async function runChild(c: Case): Promise<Measured> {
  const ups = inputs(c.params, c.updates);
  const base = Float32Array.from({ length: c.params }, (_, i) => (i % 7) * 0.01);
  const copy = copyRate(ups, c.params);
  const spec = specOf(c.rule);
  const pool = c.mode === 'streaming' ? new AggregationPool(c.threads) : null;
  await pool?.broadcast({ op: 'detach', id: 'none' }); // the workers are up before the clock starts
  const idleStallMs = await idleStall();
  const dir = mkdtempSync(join(tmpdir(), 'gridtab-bench-aggregate-'));
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  let result: Float32Array;
  let foldSeconds = 0;
  let foldStallMs = 0;
  let boundBytes: number | null = null;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  if (!pool) {
    result = aggregatorFor(spec).aggregate(base, ups);
  } else {
    const acc = accumulatorFor(spec, pool, c.params, { dir });
    delay.enable();
    // The intake has up to inFlight folds outstanding and awaits the oldest before sending
    // another (the accumulator's back-pressure); a burst that does not wait is the queue tests'
    // case (streaming.test.ts).
    const outstanding: Promise<void>[] = [];
    for (const u of ups) {
      outstanding.push(acc.fold(u));
      if (outstanding.length >= c.inFlight) await outstanding.shift();
    }
    await Promise.all(outstanding);
    foldSeconds = (performance.now() - t0) / 1000;
    delay.disable();
    foldStallMs = delay.max / 1e6;
    delay.reset();
    delay.enable();
    result = await acc.finish(base);
    const modelBytes = c.params * 4;
    boundBytes = acc.boundedBytes === undefined ? null : 3 * modelBytes + acc.boundedBytes;
    await new Promise((r) => setTimeout(r, 5));
    await acc.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  delay.disable();
  // The batch call is synchronous: the loop stalls for all of it.
  const closeStallMs = pool ? delay.max / 1e6 : seconds * 1000;
  await pool?.close();
  rmSync(dir, { recursive: true, force: true });
  const peak = process.resourceUsage().maxRSS * 1024;
  const bytes = c.updates * c.params * 4;
  return {
    seconds,
    gbPerS: bytes / 1e9 / seconds,
    copyGbPerS: copy.gbPerS,
    ofCopy: bytes / 1e9 / seconds / copy.gbPerS,
    foldSeconds,
    closeSeconds: seconds - foldSeconds,
    closeStallMs,
    foldStallMs,
    idleStallMs,
    aggregationMemoryMB: Math.max(0, peak - rssBefore) / 2 ** 20,
    boundMB: boundBytes === null ? null : boundBytes / 2 ** 20,
    cpuSeconds,
    copyCpuSeconds: copy.cpuSeconds,
    peakRssMB: peak / 2 ** 20,
    modelMB: (c.params * 4) / 2 ** 20,
    resultSha256: createHash('sha256').update(new Uint8Array(result.buffer)).digest('hex'),
  };
}

if (values.child) {
  console.log(JSON.stringify(await runChild(JSON.parse(values.child) as Case)));
  process.exit(0);
}
if (values.help) {
  console.log(
    'Usage: npm run bench:aggregate -- [--cases mean:1000000x1000,median:1000000x100] [--threads N] [--in-flight N] [--out NAME]',
  );
  process.exit(0);
}

const threads = Number(values.threads);
const inFlight = Number(values['in-flight']);
if (!Number.isInteger(inFlight) || inFlight < 1)
  throw new Error(`--in-flight wants a whole number >= 1, not ${values['in-flight']}`);
const load = { start: loadavg().map((l) => Number(l.toFixed(2))), end: [] as number[] };
const rows: (Case & Measured & { identical: boolean | null })[] = [];
for (const text of values.cases.split(',')) {
  const m = /^([a-z-]+):(\d+)x(\d+)$/.exec(text);
  if (!m) throw new Error(`bad case ${text}: want rule:paramsxupdates`);
  const pair: (Case & Measured)[] = [];
  for (const mode of ['batch', 'streaming'] as const) {
    const c: Case = {
      rule: m[1] as Case['rule'],
      params: Number(m[2]),
      updates: Number(m[3]),
      mode,
      threads,
      inFlight,
    };
    const child = spawnSync(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', import.meta.filename, '--child', JSON.stringify(c)],
      { encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    if (child.status !== 0) throw new Error(`case ${text} ${mode} failed:\n${child.stderr}`);
    const measured = JSON.parse(child.stdout.trim().split('\n').pop()!) as Measured;
    pair.push({ ...c, ...measured });
    console.log(
      `${text} ${mode}: ${measured.gbPerS.toFixed(2)} GB/s (${(measured.ofCopy * 100).toFixed(0)}% of copy ${measured.copyGbPerS.toFixed(2)} GB/s), close ${measured.closeSeconds.toFixed(2)} s, stall ${measured.closeStallMs.toFixed(1)} ms (folding ${measured.foldStallMs.toFixed(1)}, idle ${measured.idleStallMs.toFixed(1)}), +${measured.aggregationMemoryMB.toFixed(0)} MB${measured.boundMB === null ? '' : ` (bound ${measured.boundMB.toFixed(0)} MB)`}, CPU ${measured.cpuSeconds.toFixed(2)} s = ${(measured.cpuSeconds / measured.copyCpuSeconds).toFixed(1)}x the copy's`,
    );
  }
  const identical = pair[0].resultSha256 === pair[1].resultSha256;
  for (const p of pair) rows.push({ ...p, identical });
}
load.end = loadavg().map((l) => Number(l.toFixed(2)));

// One line per goal, for the streaming rows, so a re-run shows at once what holds.
const caseName = (r: Case) => `${r.rule} ${r.params / 1e6}M x ${r.updates}`;
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT MET');
const goals: string[] = [];
for (const r of rows.filter((r) => r.mode === 'streaming')) {
  if (r.rule === 'mean')
    goals.push(
      `GOAL mean >= 50% of copy, ${caseName(r)}: ${(r.ofCopy * 100).toFixed(0)}% (CPU ${(r.cpuSeconds / r.copyCpuSeconds).toFixed(1)}x the copy's) ${verdict(r.ofCopy >= 0.5)}`,
    );
  goals.push(
    `GOAL close stall < 50 ms, ${caseName(r)}: ${r.closeStallMs.toFixed(1)} ms (idle loop ${r.idleStallMs.toFixed(1)} ms) ${verdict(r.closeStallMs < 50)}`,
  );
  if (r.boundMB !== null)
    goals.push(
      `GOAL memory <= 2x model + bounded buffers + result, ${caseName(r)}: +${r.aggregationMemoryMB.toFixed(0)} MB of ${r.boundMB.toFixed(0)} MB ${verdict(r.aggregationMemoryMB <= r.boundMB)}`,
    );
  goals.push(`GOAL identical to batch, ${caseName(r)}: ${verdict(r.identical === true)}`);
}
console.log(goals.join('\n'));
console.log(`load average (1 min) ${load.start[0]} -> ${load.end[0]}`);

const info = machine();
const file = writeResults(values.out, { machine: info, load, threads, inFlight, rows, goals });
console.log(`wrote ${file}`);
const date = info.date.slice(0, 10);
const f = (x: number, d = 2) => x.toFixed(d);
addRows(
  'bench:aggregate rows',
  rows.map(
    (r) =>
      `| ${date} | ${r.rule} | ${(r.params / 1e6).toFixed(0)}M x ${r.updates} | ${r.mode}${r.mode === 'streaming' ? ` (${r.threads} thread${r.threads === 1 ? '' : 's'}, ${r.inFlight} in flight)` : ''} | ${f(r.gbPerS)} GB/s, ${f(r.ofCopy * 100, 0)}% of copy (${f(r.copyGbPerS)} GB/s) | ${f(r.closeSeconds)} s | ${f(r.closeStallMs, 1)} ms${r.mode === 'streaming' ? ` (folding: ${f(r.foldStallMs, 1)} ms)` : ''}; idle ${f(r.idleStallMs, 1)} ms | +${f(r.aggregationMemoryMB, 0)} MB (model ${f(r.modelMB, 0)} MB${r.boundMB === null ? '' : `, bound ${f(r.boundMB, 0)} MB`}); CPU ${f(r.cpuSeconds / r.copyCpuSeconds, 1)}x copy | ${r.identical ? 'identical' : 'DIFFERENT'} | load ${load.start[0]} -> ${load.end[0]} |`,
  ),
);
