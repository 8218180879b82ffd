/**
 * Streaming aggregation in the scheduler: the same updates give the same bits streamed as in
 * batch (through a restart that rebuilds the accumulator from the store), jobs that must screen
 * updates at close stay batch, a stream that did not fold exactly the round's updates hands the
 * version to batch, and crashed processes' spill folders are removed at start.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobSpecInput, WorkUnit } from '@gridtab/shared';
import { jobSpecSchema } from '@gridtab/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { WeightedMean } from '../aggregation/weighted-mean.ts';
import { createCoordinator } from '../app.ts';
import { ManualClock } from '../clock.ts';
import { configFromEnv } from '../config.ts';
import type { UpdateRecord } from '../storage/store.ts';
import { strategyFor } from '../strategies/index.ts';
import { startTestCoordinator, TEST_JOB, type TestCoordinator, updateMetaFor } from '../testing.ts';
import { createJob } from './jobs.ts';
import { AggregationStreams, batchReason } from './streaming.ts';

const PARAMS = 101_770; // the MLP preset

/** Deterministic values for a unit (by its id less the job's): a small PRNG, not constants. */
function payloadFor(key: string): Uint8Array {
  let s = 0;
  for (const ch of key) s = (s * 31 + ch.charCodeAt(0)) >>> 0;
  const values = new Float32Array(PARAMS);
  for (let i = 0; i < PARAMS; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    values[i] = (s / 2 ** 32 - 0.5) * 0.02;
  }
  return new Uint8Array(values.buffer);
}

type Step = ['take' | 'submit', string] | ['restart'] | ['idle'];

interface Run {
  co: TestCoordinator;
  clock: ManualClock;
  jobId: string;
  held: Map<string, WorkUnit>;
  logs: string[];
}

async function start(streaming: boolean, clock: ManualClock, logs: string[]) {
  return startTestCoordinator(
    { tickMs: 1e9, streamingAggregation: streaming },
    { clock, log: (m: string) => logs.push(m) },
  );
}

async function play(run: Run, steps: Step[], restart: boolean): Promise<void> {
  for (const step of steps) {
    const [what, who] = step;
    if (what === 'take') run.held.set(who!, (await run.co.scheduler.requestUnit(who!)).unit!);
    else if (what === 'submit') {
      const unit = run.held.get(who!)!;
      const payload = payloadFor(unit.unitId.slice(run.jobId.length));
      // Distinct sample counts weigh the mean; distinct times give the store the fold order.
      const meta = { ...updateMetaFor(unit, payload), numSamples: 100 + payload[7] };
      await run.co.scheduler.submit(who!, meta, payload);
      run.clock.advance(1);
    } else if (what === 'idle') await run.co.scheduler.idle();
    else if (restart) {
      const folded = run.co.scheduler.streamOf(run.jobId)?.count;
      await run.co.close();
      const again = await createCoordinator(run.co.config, {
        log: (m) => run.logs.push(m),
        clock: run.clock,
      });
      const dir = run.co.dir;
      run.co = {
        ...again,
        dir,
        destroy: async () => {
          await again.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
      // The accumulator is rebuilt from the stored updates of the open round.
      expect(run.co.scheduler.streamOf(run.jobId)?.count).toBe(folded);
      expect(folded).toBeGreaterThan(0);
    }
  }
}

const ROUNDS: Step[] = [
  ...(['a', 'b', 'c'].map((w) => ['take', w]) as Step[]),
  ...(['a', 'b', 'c'].map((w) => ['submit', w]) as Step[]),
  ['idle'],
  ['take', 'a'],
  ['take', 'b'],
  ['submit', 'a'],
  ['submit', 'b'],
  ['restart'],
  ['take', 'c'],
  ['submit', 'c'],
  ['idle'],
];

// Two versions from a buffer of 2: the third update is one version stale (scaled) and comes after a restart.
const BUFFER: Step[] = [
  ['take', 'a'],
  ['take', 'b'],
  ['take', 'c'],
  ['submit', 'a'],
  ['submit', 'b'],
  ['idle'],
  ['submit', 'c'],
  ['restart'],
  ['take', 'd'],
  ['submit', 'd'],
  ['idle'],
];

const CASES: [string, Partial<JobSpecInput>, Step[]][] = [
  ['fedavg, mean', { aggregation: { rule: 'mean' } }, ROUNDS],
  ['fedavg, median', { aggregation: { rule: 'median' } }, ROUNDS],
  ['fedavg, centered-clip', { aggregation: { rule: 'centered-clip', radius: 0.5, iterations: 2 } }, ROUNDS],
  [
    'diloco, trimmed-mean',
    {
      strategy: { name: 'diloco', outerLearningRate: 0.7, outerMomentum: 0.9 },
      aggregation: { rule: 'trimmed-mean', trim: 0.2 },
    },
    ROUNDS,
  ],
  [
    'buffered, mean',
    { strategy: { name: 'buffered', bufferSize: 2, maxStaleness: 2, stalenessExponent: 0.5 } },
    BUFFER,
  ],
] as [string, Partial<JobSpecInput>, Step[]][];

describe('streaming aggregation in the scheduler', () => {
  const runs: Run[] = [];
  afterEach(async () => {
    for (const r of runs.splice(0)) await r.co.destroy();
  });

  for (const [name, spec, steps] of CASES) {
    it(`${name}: streamed versions are bit-identical to batch on the same updates, through a restart`, async () => {
      const t0 = 1_700_000_000_000;
      for (const streaming of [false, true]) {
        const clock = new ManualClock(t0);
        const logs: string[] = [];
        const co = await start(streaming, clock, logs);
        runs.push({ co, clock, jobId: '', held: new Map(), logs });
      }
      const [batch, streamed] = runs;
      const parsed = jobSpecSchema.parse({ ...TEST_JOB, ...spec });
      // Both start from the same (randomly initialised) weights.
      const first = await createJob(batch.co, parsed);
      const v0 = (await batch.co.store.getVersion(first.versionId!))!;
      const hash = await streamed.co.blobs.put((await batch.co.blobs.get(v0.hash))!);
      const second = await createJob(streamed.co, parsed, hash);
      for (const [run, job] of [
        [batch, first],
        [streamed, second],
      ] as const) {
        run.jobId = job.id;
        await run.co.scheduler.openRound(job);
      }
      expect(batch.co.scheduler.streamOf(first.id)).toBeNull();
      await play(batch, steps, false);
      await play(streamed, steps, true);

      const a = await batch.co.store.listVersions(first.id);
      const b = await streamed.co.store.listVersions(second.id);
      expect(a.length).toBe(3);
      expect(b.map((v) => v.round)).toEqual(a.map((v) => v.round));
      for (let i = 1; i < a.length; i++) {
        const [wa, wb] = [await batch.co.blobs.get(a[i].hash), await streamed.co.blobs.get(b[i].hash)];
        expect(Buffer.from(wb!).equals(Buffer.from(wa!))).toBe(true);
        expect(b[i].stateHash ?? null).toBe(a[i].stateHash ?? null);
        const strip = (ids: string[], job: string) => ids.map((id) => id.slice(job.length));
        expect(strip(b[i].unitIds, second.id)).toEqual(strip(a[i].unitIds, first.id));
      }
      // Streamed for real: no version fell back to batch, nothing failed.
      expect(streamed.logs.filter((l) => /made in batch|failed/.test(l))).toEqual([]);
      // Making the version freed the robust rules' spill files.
      const spill = join(streamed.co.config.dataDir, 'spill', `p${process.pid}`);
      expect(readdirSync(spill)).toEqual([]);
    });
  }

  it('keeps jobs with spot-checks, and every job with streaming off, on the batch path', async () => {
    const fedavg = strategyFor('fedavg', { rule: 'mean' });
    expect(batchReason({}, fedavg)).toBeNull();
    expect(batchReason({ spotChecks: { minRate: 0.1, tolerance: 0.1 } }, fedavg)).toMatch(/spot-checks/);
    const custom = { name: 'custom', schedule: fedavg.schedule, apply: fedavg.apply.bind(fedavg) };
    expect(batchReason({}, custom)).toMatch(/no streaming step/);
    expect(configFromEnv({}).streamingAggregation).toBe(true);
    expect(configFromEnv({ GRIDTAB_STREAMING_AGGREGATION: 'off' }).streamingAggregation).toBe(false);
    expect(() => configFromEnv({ GRIDTAB_STREAMING_AGGREGATION: 'no' })).toThrow(
      'GRIDTAB_STREAMING_AGGREGATION',
    );

    const clock = new ManualClock();
    const co = await start(true, clock, []);
    runs.push({ co, clock, jobId: '', held: new Map(), logs: [] });
    const plain = await createJob(co, jobSpecSchema.parse(TEST_JOB));
    const checked = await createJob(co, jobSpecSchema.parse({ ...TEST_JOB, spotChecks: {} }));
    for (const job of [plain, checked]) await co.scheduler.openRound(job);
    expect(co.scheduler.streamOf(plain.id)?.count).toBe(0);
    expect(co.scheduler.streamOf(checked.id)).toBeNull();
  });

  it('hands a version to batch when the stream did not fold exactly its updates', async () => {
    const logs: string[] = [];
    const root = join(tmpdir(), `gridtab-st-${process.pid}-${Date.now()}`);
    const streams = new AggregationStreams({ spillRoot: root, log: (m) => logs.push(m) });
    await streams.start();
    try {
      const strategy = strategyFor('fedavg', { rule: 'mean' });
      const spec = jobSpecSchema.parse(TEST_JOB);
      const n = 1000;
      const rec = (i: number): UpdateRecord => ({
        id: `u-${i}`,
        jobId: 'j',
        round: 1,
        unitId: `j.r1.u${i}`,
        contributorId: 'c',
        baseVersionId: 'v',
        numSamples: 10 + i,
        loss: 1,
        blobHash: `h${i}`,
        createdAt: '',
      });
      const deltas = [0, 1, 2].map((i) => Float32Array.from({ length: n }, (_, k) => Math.sin(k + i) * 0.01));
      const base = Float32Array.from({ length: n }, (_, k) => Math.cos(k));
      const folded = (count: number) => {
        const s = streams.open(spec, strategy, n, 0)!;
        for (let i = 0; i < count; i++) void s.fold(rec(i), deltas[i], 0);
        return s;
      };
      const whole = folded(3);
      const step = await whole.step(0, base, null, [0, 1, 2].map(rec));
      const expected = new WeightedMean().aggregate(
        base,
        deltas.map((delta, i) => ({ delta, numSamples: rec(i).numSamples })),
      );
      expect(step?.weights).toEqual(expected);
      expect(await whole.step(0, base, null, [0, 1, 2].map(rec))).toBeNull(); // finished once
      await whole.close();
      for (const [updates, baseRound] of [
        [[0, 1].map(rec), 0], // one was screened out
        [[rec(0), rec(1), { ...rec(2), blobHash: 'replica' }], 0], // one was replaced
        [[0, 1, 2].map(rec), 1], // another base
      ] as const) {
        const s = folded(3);
        expect(await s.step(baseRound, base, null, [...updates])).toBeNull();
        await s.close();
      }
      expect(logs.filter((l) => l.includes('made in batch'))).toHaveLength(3);
    } finally {
      await streams.close();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('removes the spill folders of processes that are gone at start, not those of live ones', async () => {
    const root = join(tmpdir(), `gridtab-spill-root-${process.pid}-${Date.now()}`);
    const dead = join(root, 'p99999999', 'gridtab-spill-x');
    const live = join(root, `p${process.ppid}`, 'gridtab-spill-y');
    const mine = join(root, `p${process.pid}`, 'gridtab-spill-z');
    for (const dir of [dead, live, mine]) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'columns'), new Uint8Array(64));
    }
    const streams = new AggregationStreams({ spillRoot: root, log: () => {} });
    await streams.start();
    expect(existsSync(join(root, 'p99999999'))).toBe(false);
    expect(existsSync(join(live, 'columns'))).toBe(true);
    // This pid's folder is from an earlier process with the same pid: emptied, made again.
    expect(readdirSync(streams.spillDir)).toEqual([]);
    rmSync(root, { recursive: true, force: true });
  });
});
