/**
 * `npx gridtab-worker --coordinator URL`: a contributor without a browser. Runs the same
 * runtime as a tab, on WebGPU through Dawn when a real GPU is present, else on TF.js's wasm
 * backend; shows one progress line (cli-progress: it redraws in place on a terminal and prints
 * a line every few seconds into a pipe or log file); Ctrl-C or SIGTERM gives the lease in
 * progress back and exits within STOP_DEADLINE_MS even when the coordinator cannot be reached.
 * The backend is chosen as a tab chooses it: by timing the job's own model after the first unit.
 */
import { parseArgs } from 'node:util';
import type { BackendName } from '@gridtab/shared';
import cliProgress from 'cli-progress';
import '@tensorflow/tfjs-backend-wasm';
import { createNodeContributor } from '../runtime/index.ts';
import type { ContributorState } from '../runtime/types.ts';
import { findRealGpu } from './gpu.ts';

const HELP = `Usage: npx gridtab-worker --coordinator URL [--coordinator URL...] [--no-gpu] [--quiet]

Contributes this machine to a GridTab coordinator, like a browser tab on the
contribute page but in Node. Uses the GPU through WebGPU (Dawn) when a real one
is present, else TF.js's WebAssembly backend. Ctrl-C stops cleanly and gives
the unit in progress back.

  --coordinator URL   the coordinator, e.g. http://localhost:8787 (required); repeat it
                      or separate URLs with commas for several processes sharing one
                      store: the worker moves to another when its own goes away
  --no-gpu            do not try WebGPU
  --quiet             no progress line, only events
  -h, --help          this text
`;

/** How long a signal waits for the unit to be given back before the worker leaves anyway. */
export const STOP_DEADLINE_MS = 4000;

/** The progress line: cli-progress fills {bar} from the unit's progress, the rest from progressPayload. */
const PROGRESS_FORMAT = '[{bar}] {phase} {backend}  units {units}  {rate}  loss {loss}{version}';

export function progressPayload(s: ContributorState) {
  const acc = s.versions.at(-1)?.metrics.testAccuracy;
  return {
    phase: s.phase.padEnd(12),
    backend: s.chosenBackend ?? '-',
    units: s.unitsDone,
    rate: s.samplesPerSec ? `${Math.round(s.samplesPerSec)} samples/s` : '- samples/s',
    loss: s.loss === null ? '-' : s.loss.toFixed(4),
    version: acc == null ? '' : `  round ${s.versions.at(-1)!.round} acc ${(acc * 100).toFixed(2)}%`,
  };
}

/** Per mille of the unit in progress: the bar's value out of 1000. */
const permille = (s: ContributorState) => Math.round(s.unitProgress * 1000);

export async function main(argv: string[]): Promise<number> {
  let values: { coordinator?: string[]; 'no-gpu'?: boolean; quiet?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        coordinator: { type: 'string', multiple: true },
        'no-gpu': { type: 'boolean' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const urls = (values.coordinator ?? []).flatMap((u) => u.split(',')).map((u) => u.trim());
  if (urls.length === 0 || !urls.every((u) => /^https?:\/\/[^/]+/.test(u))) {
    process.stderr.write(`--coordinator must be an http(s) URL\n\n${HELP}`);
    return 2;
  }
  const log = (msg: string) => process.stdout.write(`${values.quiet ? '' : '\n'}[worker] ${msg}\n`);
  const gpu = values['no-gpu'] ? null : await findRealGpu(log);
  const backends: BackendName[] = gpu ? ['webgpu', 'wasm', 'cpu'] : ['wasm', 'cpu'];
  if (gpu) log(`GPU: ${gpu.adapter}`);
  const contributor = createNodeContributor({ coordinatorUrl: urls, backends, log });
  const bar = new cliProgress.SingleBar({
    format: PROGRESS_FORMAT,
    barsize: 20,
    barCompleteChar: '#',
    barIncompleteChar: '.',
    stream: process.stdout,
    // Into a pipe (systemd, a log file) too, but one line every 5 s rather than a redraw.
    noTTYOutput: true,
    notTTYSchedule: 5000,
  });
  let barStarted = false;
  contributor.subscribe((s) => {
    if (values.quiet) return;
    if (!barStarted) bar.start(1000, permille(s), progressPayload(s));
    else bar.update(permille(s), progressPayload(s));
    barStarted = true;
  });
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      bar.stop();
      log(`${signal}: giving the unit back and leaving`);
      // Training stops at the next step (the trainer yields between steps) and the unit is
      // released; with the coordinator gone the release cannot be acknowledged, so leave after
      // STOP_DEADLINE_MS anyway: the lease then expires on its own (a supervisor's SIGTERM is
      // followed by SIGKILL after a grace period, commonly 10 s).
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<'late'>((r) => {
        timer = setTimeout(() => r('late'), STOP_DEADLINE_MS);
      });
      const outcome = await Promise.race([contributor.stop().then(() => 'stopped' as const), late]);
      clearTimeout(timer);
      if (outcome === 'late') log('the coordinator did not answer; leaving, the lease will expire');
      gpu?.release();
      resolve(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
  });
  await contributor.start();
  if (contributor.state.phase === 'error') {
    log(`could not start: ${contributor.state.lastError}`);
    return 1;
  }
  log(`contributing to ${urls.join(', ')} as ${contributor.state.contributorId ?? '(joining)'}`);
  return stopped;
}
