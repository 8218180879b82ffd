/**
 * `npm run bench:attacks`: what hostile and broken contributors do to training, and what stops
 * them. Fashion-MNIST (the real IDX files), the demo MLP, 5 Node contributors from the fault and
 * attack harness (wasm) against a coordinator in this process. Three parts:
 *
 * 1. Accuracy under attack: one job per (attack, rule), all run side by side from the same
 *    initial weights, seed and shards; in attacked jobs the last unit of every round (1 of 5 =
 *    20%) is hostile, whichever contributor takes it. The last, because it is handed out after
 *    the round's other units: an ALIE colluder waits for their honest deltas, and waiting on
 *    units nobody holds yet would tie up the contributors that should train them. Compared with the clean run of plain mean. Clean
 *    runs of every rule repeat over --seeds seeds (each its own initial weights and shards), so
 *    "robust vs plain mean without attackers" is a mean over seeds, not one draw.
 *    Training is deterministic given the initial weights (seeded batches, wasm), so the initial
 *    weights are kept in --init-dir: runs in separate processes (to use both cores) start from
 *    the same weights and their clean runs agree.
 * 2. Lazy contributors and spot-checks: a job with spot-checks and one contributor that sends
 *    zero updates; how many of its units pass before it is caught, and whether any entered an
 *    aggregate; plus the policy's computed and simulated detection within 50 units.
 * 3. Bad input: non-finite, wrong-shape, over-norm, oversized, stale and replayed updates are
 *    sent and counted: refused before aggregation or not; every version checked for finiteness.
 *
 * Writes bench/results/attacks.json and rows under `## Attacks` in docs/BENCHMARKS.md.
 * Attack strengths: an attack is only worth measuring if it hurts plain averaging (the issue asks
 * for a drop of at least 10 points). With 1 attacker in 5, an unboosted sign flip or label flip
 * only slows plain averaging down (the mean is 3/5 of the honest step), so both are boosted by
 * --boost (default 4, "explicit boosting", Bhagoji et al. 2019): the attacker scales its update
 * by 4 to outweigh the 4 honest ones, still far inside the job's norm bound. ALIE runs at each
 * z of --alie-z: "paper" is the paper's z_max for 1 of 5, and larger z test a bolder colluder.
 *
 * Options: --rounds N (default 6), --steps N (local steps a unit, default 20),
 * --rules trimmed-mean,median,centered-clip, --attacks a,b,..., --seeds N (clean runs, default 1),
 * --scale K, --sigma S, --boost B, --alie-z paper,Z,... (attack strengths), --init-dir DIR,
 * --skip accuracy,lazy,bad-input, --out NAME (results file, default attacks), --report-only.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type AggregationSpec,
  ask,
  CONTRIBUTOR_NAMESPACE,
  type ContributorClientEvents,
  type ContributorServerEvents,
  type JobSpecInput,
  jobSpecSchema,
  MAX_UPDATE_BYTES,
  mulberry32,
  PROTOCOL_VERSION,
  type UpdateMeta,
  type WorkUnit,
} from '@gridtab/shared';
import { bytesToFloat32 } from '@gridtab/shared/tf';
import { io, type Socket } from 'socket.io-client';
import type { Behaviour } from '../client/src/runtime/behaviour.ts';
import { createNodeContributor } from '../client/src/runtime/index.ts';
import { alieTamper } from '../client/src/runtime/sim/alie.ts';
import {
  alieZ,
  Collusion,
  labelFlip,
  type SimContributor,
  simContributor,
  tamperWith,
  unitIndex,
} from '../client/src/runtime/sim/index.ts';
import { DEMO_JOB } from '../coordinator/src/bootstrap.ts';
import { configFromEnv } from '../coordinator/src/config.ts';
import { createCoordinator, type RunningCoordinator } from '../coordinator/src/index.ts';
import { checkRate, DEFAULT_MIN_RATE, detectionProbability } from '../coordinator/src/reputation/policy.ts';
import { createJob } from '../coordinator/src/scheduler/jobs.ts';
import { addRows, machine, writeResults } from './report.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    seeds: { type: 'string', default: '1' },
    boost: { type: 'string', default: '4' },
    'init-dir': { type: 'string', default: join(tmpdir(), 'gridtab-attacks-init') },
    steps: { type: 'string', default: '20' },
    rules: { type: 'string', default: 'trimmed-mean,median,centered-clip' },
    attacks: { type: 'string', default: 'sign-flip,scaled,noise,label-flip,alie,lazy' },
    skip: { type: 'string', default: '' },
    out: { type: 'string', default: 'attacks' },
    scale: { type: 'string', default: '-10' },
    sigma: { type: 'string', default: '1' },
    'alie-z': { type: 'string', default: 'paper,30' },
    'report-only': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(
    'Usage: npm run bench:attacks -- [--rounds N] [--steps N] [--rules r1,r2] [--attacks a,b] [--seeds N]\n' +
      '  [--scale K] [--sigma S] [--boost B] [--alie-z paper,Z] [--init-dir DIR] [--skip part,...] [--out NAME]\n' +
      'Attacks: sign-flip, scaled, noise, label-flip, alie, lazy. Rules: trimmed-mean, median, centered-clip\n' +
      '(plain mean always runs). Writes bench/results/NAME.json and rows in docs/BENCHMARKS.md.',
  );
  process.exit(0);
}
const rounds = Number(values.rounds);
const skip = new Set(values.skip!.split(',').filter(Boolean));
const CONTRIBUTORS = 5;
const UNITS = 5;
// "paper": the paper's z_max for 1 colluder of 5.
const ALIE_ZS = values['alie-z']!.split(',').map((z) => (z === 'paper' ? alieZ(UNITS, 1) : Number(z)));
const SEEDS = Number(values.seeds);
const BOOST = Number(values.boost);
// The demo job's model and optimizer, fewer steps a unit to keep the runs short on 2 shared cores.
const HP = {
  batchSize: 64,
  localSteps: Number(values.steps),
  learningRate: 0.001,
  optimizer: 'adam' as const,
};

type Attack = 'sign-flip' | 'scaled' | 'noise' | 'label-flip' | 'alie' | 'lazy';
const ATTACK_OPTIONS = { scale: Number(values.scale), sigma: Number(values.sigma), seed: 7, boost: BOOST };

function rule(name: string): AggregationSpec {
  if (name === 'mean') return { rule: 'mean' };
  if (name === 'trimmed-mean') return { rule: 'trimmed-mean', trim: 0.2 };
  if (name === 'median') return { rule: 'median' };
  if (name === 'centered-clip') return { rule: 'centered-clip', iterations: 3 };
  throw new Error(`unknown rule ${name}`);
}

async function coordinator(): Promise<{ co: RunningCoordinator; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'gridtab-attacks-'));
  const co = await createCoordinator(
    configFromEnv({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dir,
      GRIDTAB_DEMO_JOB: '0',
      ADMIN_TOKEN: 'bench',
    }),
    { log: (m) => /failed|Error|quarantined/.test(m) && console.error(m) },
  );
  return { co, dir };
}

async function addJob(co: RunningCoordinator, spec: Partial<JobSpecInput>, initialWeights?: string) {
  const job = await createJob(
    co,
    jobSpecSchema.parse({
      ...DEMO_JOB,
      hyperparameters: HP,
      // Rounds wait for all their units: with many jobs side by side a round can sit for minutes,
      // and a deadline that closed it early would aggregate only the units done (often the
      // attacker's alone), which measures starvation, not the rule.
      rounds: { unitsPerRound: UNITS, quorum: 1, deadlineMs: 86_400_000, leaseMs: 600_000 },
      stopping: { maxRounds: rounds },
      ...spec,
    }),
    initialWeights,
  );
  await co.scheduler.openRound(job);
  return job;
}

const waitFor = async (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 3_600_000) => {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
};

/**
 * The initial weights of seed k, shared by every job of that seed in this run and in other runs
 * with the same --init-dir (TF.js's own initialisation is not seeded).
 */
async function seededStart(co: RunningCoordinator, k: number, spec: Partial<JobSpecInput>) {
  const file = join(values['init-dir']!, `fashion-mlp-${k}.f32`);
  if (existsSync(file)) {
    const hash = await co.blobs.put(new Uint8Array(readFileSync(file)));
    return { job: await addJob(co, spec, hash), hash };
  }
  const job = await addJob(co, spec);
  const hash = (await co.store.getVersion(job.versionId!))!.hash;
  mkdirSync(values['init-dir']!, { recursive: true });
  writeFileSync(file, (await co.blobs.get(hash))!);
  return { job, hash };
}

type Variant = { attack: Attack; label: string; z?: number };

/** Part 1: every contributor is honest except on the last unit of an attacked job's rounds. */
async function accuracyUnderAttack() {
  const { co, dir } = await coordinator();
  const rules = ['mean', ...values.rules!.split(',').filter(Boolean)];
  const variants: Variant[] = (values.attacks!.split(',').filter(Boolean) as Attack[]).flatMap(
    (attack): Variant[] => {
      if (attack === 'alie') return ALIE_ZS.map((z) => ({ attack, label: `alie z ${+z.toFixed(3)}`, z }));
      const label =
        attack === 'scaled'
          ? `scaled x${ATTACK_OPTIONS.scale}`
          : attack === 'noise'
            ? `noise sigma ${ATTACK_OPTIONS.sigma}`
            : attack === 'sign-flip' || attack === 'label-flip'
              ? `${attack} boost ${BOOST}`
              : attack;
      return [{ attack, label }];
    },
  );
  const jobs: { attack: Attack | 'none'; label: string; rule: string; seed: number; id: string }[] = [];
  const baseSeed = jobSpecSchema.parse(DEMO_JOB).seed;
  let seed0 = '';
  for (let k = 0; k < Math.max(1, SEEDS); k++) {
    let hash = '';
    for (const r of rules) {
      const spec = { name: `clean ${r} seed ${k}`, aggregation: rule(r), seed: baseSeed + k };
      const job = hash
        ? await addJob(co, spec, hash)
        : await seededStart(co, k, spec).then((s) => {
            hash = s.hash;
            return s.job;
          });
      jobs.push({ attack: 'none', label: 'none', rule: r, seed: k, id: job.id });
    }
    if (k === 0) seed0 = hash;
  }
  const variantOf = new Map<string, Variant>();
  for (const v of variants) {
    for (const r of rules) {
      const job = await addJob(co, { name: `${v.label} ${r}`, aggregation: rule(r), seed: baseSeed }, seed0);
      jobs.push({ attack: v.attack, label: v.label, rule: r, seed: 0, id: job.id });
      variantOf.set(job.id, v);
    }
  }
  const collusion = new Collusion();
  const alie = new Map(
    ALIE_ZS.map((z) => [z, alieTamper(collusion, { z, want: UNITS, timeoutMs: 120_000 })] as const),
  );
  const boosted = (d: Float32Array) => d.map((x) => BOOST * x);
  const tampers = {
    'sign-flip': (d: Float32Array) => d.map((x) => -BOOST * x),
    scaled: tamperWith('scaled', ATTACK_OPTIONS),
    noise: tamperWith('noise', ATTACK_OPTIONS),
    lazy: tamperWith('lazy'),
    // The delta was trained on flipped labels (relabel below); boosting makes it outweigh the rest.
    'label-flip': boosted,
  };
  const hostile = (unit: WorkUnit) => (unitIndex(unit) === UNITS - 1 ? variantOf.get(unit.jobId) : undefined);
  const behaviour: Behaviour = {
    tamper(delta, unit) {
      const v = hostile(unit);
      if (v?.attack === 'alie') return alie.get(v.z!)!(delta, unit);
      if (v) return tampers[v.attack as keyof typeof tampers](delta, unit);
      if (variantOf.get(unit.jobId)?.attack === 'alie') collusion.deposit(unit, delta);
      return delta;
    },
    relabel: (unit) => (hostile(unit)?.attack === 'label-flip' ? labelFlip(10) : undefined),
  };
  const sims = Array.from({ length: CONTRIBUTORS }, () =>
    createNodeContributor({ coordinatorUrl: co.url, benchmarkMs: 100, backends: ['wasm'], behaviour }),
  );
  const started = Date.now();
  await Promise.all(sims.map((s) => s.start()));
  await waitFor(
    async () =>
      (await Promise.all(jobs.map((j) => co.store.getJob(j.id)))).every((j) => j!.status === 'completed'),
    'the accuracy jobs',
  );
  for (const s of sims) await s.stop();
  const results = [];
  for (const j of jobs) {
    const versions = await co.store.listVersions(j.id);
    results.push({
      ...j,
      finalAccuracy: versions.at(-1)!.metrics.testAccuracy!,
      curve: versions.slice(1).map((v) => v.metrics.testAccuracy),
    });
  }
  await co.close();
  rmSync(dir, { recursive: true, force: true });
  return { wallS: (Date.now() - started) / 1000, rules, results };
}

/** Part 2: a lazy contributor among honest ones, on a job with spot-checks. */
async function lazyDetection() {
  const { co, dir } = await coordinator();
  const job = await addJob(co, {
    name: 'lazy',
    hyperparameters: { ...HP, localSteps: 10 },
    stopping: { maxRounds: 4 },
    spotChecks: { minRate: DEFAULT_MIN_RATE },
  });
  const lazy = simContributor({ coordinatorUrl: co.url, attack: 'lazy' });
  const honest = Array.from({ length: CONTRIBUTORS - 1 }, () => simContributor({ coordinatorUrl: co.url }));
  const sims: SimContributor[] = [lazy, ...honest];
  await lazy.contributor.start(); // first, so it surely gets units
  await waitFor(() => lazy.attacked.length > 0, 'the lazy contributor to submit');
  await Promise.all(honest.map((s) => s.contributor.start()));
  await waitFor(async () => (await co.store.getJob(job.id))!.status === 'completed', 'the lazy job');
  await co.scheduler.idle();
  for (const s of sims) await s.contributor.stop();
  const lazyId = lazy.contributor.state.contributorId!;
  let lazyAccepted = 0;
  let lazyInAggregate = 0;
  let honestChecks = 0;
  let honestFailed = 0;
  for (const v of (await co.store.listVersions(job.id)).slice(1)) {
    const checks = new Map(
      (await co.store.reputation.listChecks(job.id, v.round)).map((c) => [c.updateId, c]),
    );
    for (const u of await co.store.listUpdates(job.id, v.round)) {
      const check = checks.get(u.id);
      if (u.contributorId === lazyId) {
        lazyAccepted++;
        if (!check || check.passed) lazyInAggregate++;
      } else if (check) {
        honestChecks++;
        if (!check.passed) honestFailed++;
      }
    }
    const weights = bytesToFloat32((await co.blobs.get(v.hash))!);
    if (!weights.every(Number.isFinite)) throw new Error(`version ${v.id} holds a non-finite value`);
  }
  const lazyView = (await co.spotChecks.views()).get(lazyId) ?? {};
  await co.close();
  rmSync(dir, { recursive: true, force: true });
  // The policy for a contributor that turns lazy after a long honest record (the floor applies).
  const rand = mulberry32(2026);
  const trials = 100_000;
  let caught = 0;
  for (let t = 0; t < trials; t++) {
    for (let unit = 0; unit < 50; unit++) {
      if (rand() < checkRate({ checksPassed: 500, checksFailed: 0 })) {
        caught++;
        break;
      }
    }
  }
  return {
    newLazy: {
      unitsAcceptedBeforeQuarantine: lazyAccepted,
      lazyUpdatesInAggregates: lazyInAggregate,
      quarantined: lazyView.quarantined ?? false,
      checks: lazyView.checks,
      honestChecks,
      honestFailed,
    },
    veteranTurnsLazy: {
      minRate: DEFAULT_MIN_RATE,
      computedWithin50: detectionProbability(50),
      simulatedWithin50: caught / trials,
      trials,
    },
  };
}

/** Part 3: bad input, counted per kind. */
async function badInput() {
  const { co, dir } = await coordinator();
  const job = await addJob(co, {
    name: 'bad input',
    hyperparameters: { ...HP, localSteps: 10 },
    rounds: { unitsPerRound: 4, quorum: 0.75, deadlineMs: 60_000, leaseMs: 30_000 },
    stopping: { maxRounds: 6 },
    maxUpdateNorm: 1000,
  });
  const url = co.url;
  const attackers = (['nan', 'wrong-shape', 'over-norm'] as const).map((attack) => ({
    kind: attack,
    sim: simContributor({ coordinatorUrl: url, attack }),
  }));
  const faulty = (['duplicate', 'stale'] as const).map((fault) => ({
    kind: fault,
    sim: simContributor({ coordinatorUrl: url, fault }),
  }));
  const honest = [0, 1].map(() => simContributor({ coordinatorUrl: url }));
  await Promise.all(attackers.map((a) => a.sim.contributor.start()));
  await waitFor(() => attackers.every((a) => a.sim.attacked.length >= 3), 'three hostile submissions each');

  // Oversized: a raw socket joins, takes a unit and sends a payload one byte over the limit.
  // Typed by the contributor event maps: an oversized payload is still a well-formed message.
  type TabSocket = Socket<ContributorServerEvents, ContributorClientEvents>;
  const socket: TabSocket = io(`${url}${CONTRIBUTOR_NAMESPACE}`, { transports: ['websocket'] });
  const ACK_MS = 60_000;
  await new Promise<void>((r) => socket.on('connect', () => r()));
  await ask(socket, ACK_MS, (s) =>
    s.emitWithAck('contributor:join', {
      protocolVersion: PROTOCOL_VERSION,
      clientId: 'bench_oversized',
      backends: [],
      chosenBackend: 'cpu',
      kind: 'node',
    }),
  );
  const oversized: string[] = [];
  while (oversized.length < 3) {
    const offer = await ask(socket, ACK_MS, (s) => s.emitWithAck('unit:request', {}));
    const unit = offer.ok ? (offer.data.unit ?? null) : null;
    if (!offer.ok) console.error(`oversized: unit:request answered ${offer.error.code}`);
    if ((await co.store.getJob(job.id))!.status !== 'running') break;
    if (!unit) {
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    const meta: UpdateMeta = {
      leaseId: unit.leaseId,
      unitId: unit.unitId,
      baseVersionId: unit.baseVersionId,
      numSamples: 1,
      codec: 'fp32',
      checksum: '0'.repeat(64),
      loss: 1,
      trainMs: 1,
      backend: 'cpu',
    };
    const payload = new Uint8Array(MAX_UPDATE_BYTES + 1);
    const answer = await ask(socket, ACK_MS, (s) => s.emitWithAck('unit:submit', meta, payload));
    oversized.push(answer.ok ? 'ok' : answer.error.code);
    await ask(socket, ACK_MS, (s) => s.emitWithAck('unit:release', { leaseId: unit.leaseId }));
  }
  socket.close();
  // Only now the units can complete: before, every submit was hostile and refused, so units stay
  // available for the oversized socket whatever the machine's speed.
  await Promise.all([...faulty.map((f) => f.sim), ...honest].map((s) => s.contributor.start()));

  await waitFor(async () => (await co.store.getJob(job.id))!.status === 'completed', 'the bad-input job');
  // A stale or replaying tab may still be holding its last update when the job ends: give it a
  // moment to send, and count what was sent (the job may end before a faulty tab's second unit).
  await waitFor(
    () => faulty.every((f) => f.sim.log.answers.length >= 2),
    'the faulty contributors',
    60_000,
  ).catch(() =>
    console.error(
      'faulty answers:',
      faulty.map((f) => `${f.kind} ${f.sim.log.answers}`),
    ),
  );
  await co.scheduler.idle();
  for (const s of [...attackers.map((a) => a.sim), ...faulty.map((f) => f.sim), ...honest])
    await s.contributor.stop();
  const kinds: Record<string, { sent: number; refused: number; codes: string[] }> = {};
  const count = (kind: string, answers: string[]) => {
    kinds[kind] = {
      sent: answers.length,
      refused: answers.filter((a) => a !== 'ok').length,
      codes: [...new Set(answers)],
    };
  };
  for (const a of attackers) count(a.kind, a.sim.attacked);
  count('oversized', oversized);
  // A duplicate's first copy is an honest update; the replay is every second answer.
  const dup = faulty.find((f) => f.kind === 'duplicate')!.sim.log.answers;
  count(
    'replayed',
    dup.filter((_, i) => i % 2 === 1),
  );
  count('stale', faulty.find((f) => f.kind === 'stale')!.sim.log.answers);
  let nonFinite = 0;
  const versions = await co.store.listVersions(job.id);
  for (const v of versions) {
    if (!bytesToFloat32((await co.blobs.get(v.hash))!).every(Number.isFinite)) nonFinite++;
  }
  await co.close();
  rmSync(dir, { recursive: true, force: true });
  return { kinds, versions: versions.length, versionsWithNonFinite: nonFinite };
}

const out = values.out!;
// --report-only: add the docs rows of an earlier run's results (e.g. one stopped after a part).
const result: Record<string, unknown> = values['report-only']
  ? JSON.parse(readFileSync(resolve(import.meta.dirname, `results/${out}.json`), 'utf8'))
  : {
      machine: machine(),
      setup: {
        dataset: 'Fashion-MNIST (60k/10k)',
        model: 'demo MLP (fashion-mlp)',
        hyperparameters: HP,
        contributors: CONTRIBUTORS,
        unitsPerRound: UNITS,
        rounds,
        attackers: '1 of 5 units a round (20%)',
        cleanSeeds: SEEDS,
        attackOptions: { ...ATTACK_OPTIONS, alieZ: ALIE_ZS },
      },
    };
const part = async (name: string, fn: () => Promise<unknown>) => {
  if (skip.has(name)) return;
  const t = Date.now();
  console.log(`${name}...`);
  result[name] = await fn();
  console.log(`${name} done in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  writeResults(out, result);
};
if (!values['report-only']) {
  await part('accuracy', accuracyUnderAttack);
  await part('lazy', lazyDetection);
  await part('bad-input', badInput);
}
const file = writeResults(out, result);
console.log(JSON.stringify(result, null, 2));
console.log(`wrote ${file}`);

const day = (result.machine as { date: string }).date.slice(0, 10);
const accuracy = result.accuracy as Awaited<ReturnType<typeof accuracyUnderAttack>> | undefined;
if (accuracy) {
  const final = (attack: string, rule: string, seed = 0) =>
    accuracy.results.find((r) => r.attack === attack && r.rule === rule && r.seed === seed)?.finalAccuracy;
  const clean = final('none', 'mean')!;
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const pts = (x: number, ref = clean) => `${x >= ref ? '+' : ''}${((x - ref) * 100).toFixed(2)}`;
  const seeds = Math.max(...accuracy.results.map((r) => r.seed)) + 1;
  addRows(
    'bench:attacks rows',
    accuracy.results
      .filter((r) => r.seed === 0)
      .map(
        (r) =>
          `| ${day} | ${r.label} | ${r.rule} | ${rounds} | ${pct(r.finalAccuracy)} | ${pts(r.finalAccuracy)} |`,
      ),
  );
  // Without attackers: each robust rule against plain mean on the same seed, then the mean gap.
  if (seeds > 1) {
    addRows(
      'bench:attacks clean rows',
      accuracy.rules
        .filter((r) => r !== 'mean')
        .map((r) => {
          const gaps = Array.from(
            { length: seeds },
            (_, k) => final('none', r, k)! - final('none', 'mean', k)!,
          );
          const mean = gaps.reduce((a, b) => a + b, 0) / seeds;
          return `| ${day} | ${r} | ${seeds} | ${gaps.map((g) => pts(g, 0)).join(', ')} | ${pts(mean, 0)} |`;
        }),
    );
  }
}
const lazy = result.lazy as Awaited<ReturnType<typeof lazyDetection>> | undefined;
if (lazy) {
  const n = lazy.newLazy;
  const v = lazy.veteranTurnsLazy;
  addRows('bench:attacks lazy rows', [
    `| ${day} | new, lazy from its first unit | ${n.unitsAcceptedBeforeQuarantine} accepted before quarantine, ${n.lazyUpdatesInAggregates} in an aggregate | ${n.quarantined ? 'yes' : 'no'} | honest: ${n.honestChecks} checks, ${n.honestFailed} failed |`,
    `| ${day} | honest for 500 checks, then lazy | floor ${v.minRate}: ${(v.computedWithin50 * 100).toFixed(2)}% computed, ${(v.simulatedWithin50 * 100).toFixed(2)}% of ${v.trials} simulated, within 50 units | when its reputation falls below 0.25 | policy only (no training) |`,
  ]);
}
const bad = result['bad-input'] as Awaited<ReturnType<typeof badInput>> | undefined;
if (bad) {
  addRows(
    'bench:attacks bad-input rows',
    Object.entries(bad.kinds).map(
      ([kind, k]) =>
        `| ${day} | ${kind} | ${k.sent} | ${k.refused} (${k.sent ? ((100 * k.refused) / k.sent).toFixed(0) : '-'}%) | ${k.codes.join(', ')} | ${bad.versionsWithNonFinite} of ${bad.versions} |`,
    ),
  );
}
process.exit(0);
