/**
 * `npm run bench:abuse`: a coordinator under abuse on loopback, every party in its own process
 * (bench/abuse/): the coordinator (as `npm start` runs it: real build pool, default limits),
 * a prober polling /api/health every 20 ms, and an attacker. Phases: idle; a join flood of
 * ABUSE_CLIENTS sockets with random clientIds from one address (joins admitted vs refused by the
 * per-address bucket); a burst of every hostile spec of the shared table plus costly-but-legal
 * specs just under the parameter cap (coordinator/src/http/costly-specs.ts), all at once. Per
 * phase: health latency seen by the prober, event-loop delay and peak RSS inside the coordinator.
 * Results to bench/results/abuse.json.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';

const CLIENTS = Number(process.env.ABUSE_CLIENTS ?? 500);
const IDLE_MS = Number(process.env.ABUSE_IDLE_MS ?? 3000);
const here = (f: string) => resolve(import.meta.dirname, 'abuse', f);

const start = (file: string, args: string[] = []) =>
  fork(here(file), args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
// biome-ignore lint/suspicious/noExplicitAny: replies are plain JSON from our own children
const reply = (child: ChildProcess, send?: object): Promise<any> =>
  new Promise((r) => {
    child.once('message', r);
    if (send) child.send(send);
  });

const coordinator = start('coordinator.ts');
const ready = await reply(coordinator);
const prober = start('prober.ts', [ready.url]);
const attacker = start('attacker.ts', [ready.url]);
await Promise.all([reply(prober), reply(attacker)]);

/** Runs `work` as one phase; its figures from the coordinator and the prober. */
async function phase<T>(name: string, work: () => Promise<T>) {
  coordinator.send({ phase: name });
  prober.send({ phase: name });
  const started = performance.now();
  const result = await work();
  const seconds = Math.round((performance.now() - started) / 10) / 100;
  const [inside, health] = await Promise.all([
    reply(coordinator, { end: true }),
    reply(prober, { end: true }),
  ]);
  console.log(name, JSON.stringify({ seconds, result, health, inside }));
  return { seconds, ...(result ?? {}), health, coordinator: inside };
}

const loadBefore = loadavg();
const idle = await phase('idle', () => new Promise<void>((r) => setTimeout(r, IDLE_MS)));
// ABUSE_PHASES=flood or =specs runs one attack alone (for a profile of it).
const phases = process.env.ABUSE_PHASES ?? 'flood,specs';
const flood = phases.includes('flood')
  ? await phase('join flood', () => reply(attacker, { flood: CLIENTS }))
  : null;
const specs = phases.includes('specs')
  ? await phase('spec burst', () => reply(attacker, { specs: true }))
  : null;
const result = {
  at: new Date().toISOString(),
  loadAverage: {
    before: loadBefore.map((l) => Math.round(l * 100) / 100),
    after: loadavg().map((l) => Math.round(l * 100) / 100),
  },
  store: ready.store,
  joinLimit: ready.joinLimit,
  build: ready.build,
  idle,
  flood,
  specBurst: specs,
};
for (const child of [attacker, prober, coordinator]) child.send({ stop: true });
await new Promise((r) => coordinator.once('exit', r));
mkdirSync(resolve(import.meta.dirname, 'results'), { recursive: true });
const suffix = process.env.ABUSE_STORE === 'postgres' ? '-postgres' : '';
writeFileSync(
  resolve(import.meta.dirname, `results/abuse${suffix}.json`),
  `${JSON.stringify(result, null, 2)}\n`,
);
console.log(JSON.stringify(result, null, 2));
process.exit(0);
