/**
 * `npm run demo -- --tabs 3`: opens headless Chromium tabs on the contribute page and shows a
 * progress bar (round, test accuracy, samples/s) until the job reaches its target or round
 * limit. Starts a coordinator in this process when none answers at --url.
 */
import { parseArgs } from 'node:util';
import type { JobView } from '@gridtab/shared';
import { chromium, type Page } from '@playwright/test';
import cliProgress from 'cli-progress';
import { DEMO_JOB } from '../coordinator/src/bootstrap.ts';
import { configFromEnv } from '../coordinator/src/config.ts';
import { createCoordinator, type RunningCoordinator } from '../coordinator/src/index.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/chromium.ts';

const HELP = `Usage: npm run demo -- [--tabs N] [--url URL] [--job ID]

Opens N headless Chromium tabs (default 3) on the GridTab contribute page with
?autostart=1 and shows a progress bar until the job completes.

  --tabs N    number of contributor tabs (1 to 16, default 3)
  --url URL   coordinator to use (default http://localhost:$PORT or :8787); when none
              answers there, one is started in this process (DATA_DIR and friends apply)
  --job ID    job to follow (default: the first running job; when none is running, a
              new demo job is created, which needs ADMIN_TOKEN for an outside coordinator)
  -h, --help  this text
`;

const { values } = parseArgs({
  options: {
    tabs: { type: 'string', default: '3' },
    url: { type: 'string' },
    job: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  strict: true,
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const tabs = Number(values.tabs);
if (!Number.isInteger(tabs) || tabs < 1 || tabs > 16) {
  console.error(`--tabs must be an integer from 1 to 16, got '${values.tabs}'`);
  process.exit(2);
}

async function alive(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<T>;
}

async function main() {
  let url = values.url ?? `http://localhost:${process.env.PORT || 8787}`;
  let own: RunningCoordinator | null = null;
  let adminToken = process.env.ADMIN_TOKEN;
  if (!(await alive(url))) {
    console.log(`No coordinator at ${url}; starting one here.`);
    const config = configFromEnv({ ...process.env, PORT: new URL(url).port || '8787' });
    own = await createCoordinator(config, { log: () => {} });
    url = own.url;
    adminToken = config.adminToken;
  }
  let jobId = values.job;
  if (!jobId) {
    const jobs = await getJson<JobView[]>(`${url}/api/jobs`);
    jobId = jobs.find((j) => j.status === 'running')?.id;
  }
  if (!jobId) {
    if (!adminToken) throw new Error('no job is running; set ADMIN_TOKEN so the demo can create one');
    const res = await fetch(`${url}/api/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(DEMO_JOB),
    });
    if (!res.ok) throw new Error(`creating the demo job failed: ${res.status} ${await res.text()}`);
    jobId = ((await res.json()) as JobView).id;
    console.log(`Created demo job ${jobId}.`);
  }

  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    headless: true,
  });
  const context = await browser.newContext();
  const pages: Page[] = [];
  for (let i = 0; i < tabs; i++) {
    const page = await context.newPage();
    await page.goto(`${url}/?autostart=1`);
    pages.push(page);
  }
  console.log(`Opened ${tabs} tab(s) on ${url}/ — following job ${jobId}. Ctrl-C stops.`);

  const first = await getJson<JobView>(`${url}/api/jobs/${jobId}`);
  const bar = new cliProgress.SingleBar(
    {
      format: 'round {value}/{total} |{bar}| accuracy {accuracy}  samples/s {rate}  tabs {backends}',
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(first.stopping.maxRounds, 0, { accuracy: '-', rate: 0, backends: '-' });
  const stop = async (code: number) => {
    bar.stop();
    await browser.close().catch(() => {});
    await own?.close();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(130));

  for (;;) {
    const job = await getJson<JobView>(`${url}/api/jobs/${jobId}`);
    const states = await Promise.all(
      pages.map((p) =>
        p
          .evaluate(
            () =>
              (window as { __gridtab?: { state: { samplesPerSec: number; chosenBackend: string | null } } })
                .__gridtab?.state,
          )
          .catch(() => undefined),
      ),
    );
    const rate = states.reduce((n, s) => n + (s?.samplesPerSec ?? 0), 0);
    const backends = states.map((s) => s?.chosenBackend ?? '…').join(',');
    const done = job.status === 'running' || job.status === 'paused' ? Math.max(0, job.round - 1) : job.round;
    const acc = job.metrics.testAccuracy;
    bar.update(done, {
      accuracy: acc === null ? '-' : `${(acc * 100).toFixed(2)}%`,
      rate: Math.round(rate),
      backends,
    });
    if (job.status !== 'running' && job.status !== 'paused') {
      bar.stop();
      const target = job.stopping.targetAccuracy;
      console.log(
        `Job ${job.status} after ${job.round} rounds: test accuracy ${acc === null ? '-' : (acc * 100).toFixed(2)}%` +
          (target ? ` (target ${(target * 100).toFixed(0)}%)` : ''),
      );
      return stop(0);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

main().catch((e) => {
  console.error(`demo failed: ${(e as Error).message}`);
  process.exit(1);
});
