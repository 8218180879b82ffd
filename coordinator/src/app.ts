/**
 * createCoordinator: wires the store, blobs, scheduler, HTTP routes and socket.io namespaces
 * onto one Node HTTP server. Everything comes in as a dependency or from the config, so tests
 * can run several coordinators in one process.
 */

import type { Server as HttpServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import {
  CONSOLE_NAMESPACE,
  CONSOLE_SNAPSHOT_MS,
  CONTRIBUTOR_NAMESPACE,
  INFERENCE_NAMESPACE,
} from '@gridtab/shared';
import { createAdaptorServer } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { Server } from 'socket.io';
import { ensureDemoJob, ensureFashionMnist } from './bootstrap.ts';
import { type Clock, systemClock } from './clock.ts';
import { connectCluster } from './cluster/cluster.ts';
import type { CoordinatorConfig } from './config.ts';
import { type Evaluator, TfEvaluator } from './evaluation/evaluator.ts';
import { createApi } from './http/api.ts';
import { errorResponse, onError } from './http/errors.ts';
import { crossOriginIsolation } from './http/isolation.ts';
import { TokenAuthority } from './http/tokens.ts';
import { attachConsole } from './realtime/console.ts';
import { attachContributors } from './realtime/contributors.ts';
import { attachInference } from './realtime/inference.ts';
import { Registry } from './registry/registry.ts';
import { InferenceTelemetry } from './registry/telemetry.ts';
import { type Recomputer, TfRecomputer } from './reputation/recompute.ts';
import { SpotChecks } from './reputation/spot-check.ts';
import { Scheduler } from './scheduler/scheduler.ts';
import { type BlobStore, FileBlobStore } from './storage/blob-store.ts';
import { openStorage } from './storage/open.ts';
import type { Store } from './storage/store.ts';
import { codeVersion } from './sweeps/code-version.ts';
import { SweepRunner } from './sweeps/runner.ts';
import { AlertInputs } from './telemetry/alert-inputs.ts';
import { AlertEngine } from './telemetry/alerts.ts';
import { CoordinatorStats } from './telemetry/coordinator-stats.ts';
import { DriftReferences } from './telemetry/drift-reference.ts';
import { createMetrics, type Metrics } from './telemetry/metrics.ts';
import { UpdateOutcomes } from './telemetry/outcomes.ts';
import { timedStore } from './telemetry/store-timing.ts';

export interface CoordinatorDeps {
  store?: Store;
  blobs?: BlobStore;
  clock?: Clock;
  evaluator?: Evaluator;
  log?: (msg: string) => void;
  /** Recomputes units for spot-checks (default: the tabs' trainer on TF.js in this process). */
  recomputer?: Recomputer;
  /** Decides which units are spot-checked (default Math.random). */
  random?: () => number;
}

export interface Coordinator {
  config: CoordinatorConfig;
  store: Store;
  blobs: BlobStore;
  clock: Clock;
  scheduler: Scheduler;
  /** Spot-checks, reputation and quarantine (reputation/). */
  spotChecks: SpotChecks;
  metrics: Metrics;
  log: (msg: string) => void;
  /** Resolves bearer tokens to roles (admin, viewer). */
  tokens: TokenAuthority;
  /** Model names, aliases, export and import (registry/), with SDK telemetry per version. */
  registry: Registry;
  inferenceTelemetry: InferenceTelemetry;
  /** Event loop, memory, sockets, aggregation and store latency, per second (telemetry/). */
  stats: CoordinatorStats;
  /** Accepted and refused updates per job and contributor, for the console and alerts. */
  outcomes: UpdateOutcomes;
  alerts: AlertEngine;
  /** Hyperparameter sweeps: each trial a job of this scheduler. */
  sweeps: SweepRunner;
  onlineContributors(): Set<string>;
}

export interface RunningCoordinator extends Coordinator {
  url: string;
  port: number;
  httpServer: HttpServer;
  io: Server;
  close(): Promise<void>;
}

const WASM_DIR = `${dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist`;
const IMMUTABLE = 'public, max-age=31536000, immutable';

export async function createCoordinator(
  config: CoordinatorConfig,
  deps: CoordinatorDeps = {},
): Promise<RunningCoordinator> {
  const log = deps.log ?? ((msg: string) => console.log(`[gridtab] ${msg}`));
  const metrics = createMetrics();
  let io: Server | null = null;
  const socketsIn = (name: string) => io?.of(name).sockets.size ?? 0;
  const stats = new CoordinatorStats(metrics, () => ({
    contributors: socketsIn(CONTRIBUTOR_NAMESPACE),
    console: socketsIn(CONSOLE_NAMESPACE),
    inference: socketsIn(INFERENCE_NAMESPACE),
  }));
  const opened = deps.store ? null : await openStorage(config);
  // Every store call is timed, whichever store was passed in or opened.
  const store = timedStore(deps.store ?? opened!.store, stats.observeStore);
  const blobs = deps.blobs ?? opened?.blobs ?? (await FileBlobStore.open(join(config.dataDir, 'blobs')));
  const clock = deps.clock ?? systemClock;
  const outcomes = new UpdateOutcomes(config.alerts.rejectionWindowMs);
  const evaluator = deps.evaluator ?? new TfEvaluator(blobs);
  let contributors: ReturnType<typeof attachContributors> | null = null;
  let inference: ReturnType<typeof attachInference> | null = null;
  let consoleNs: ReturnType<typeof attachConsole> | null = null;
  let sweeps: SweepRunner | null = null;
  const registry = new Registry({
    store,
    blobs,
    clock,
    log,
    aliasMoved: (m) => {
      void inference?.aliasMoved(m);
      void consoleNs?.push();
    },
  });

  const cluster = await connectCluster(config, log);
  const spotChecks = new SpotChecks({
    store,
    blobs,
    clock,
    recomputer: deps.recomputer ?? new TfRecomputer(),
    random: deps.random,
    log,
  });
  const scheduler = new Scheduler({
    spotChecks,
    store,
    blobs,
    clock,
    evaluator,
    log,
    holdAfter: (jobId, round) => sweeps?.holdAfter(jobId, round) ?? false,
    ownership: cluster.ownership,
    events: {
      unitsAvailable: () => contributors?.namespace.emit('unit:available'),
      versionCommitted: (event) => {
        if (event.metrics.testAccuracy !== null)
          metrics.jobAccuracy.set({ job: event.jobId }, event.metrics.testAccuracy);
        metrics.jobRound.set({ job: event.jobId }, event.round);
        metrics.roundsClosed.inc();
        contributors?.namespace.emit('job:version', event);
        void registry.onVersionCommitted(event.jobId, event.versionId);
        sweeps?.onVersionCommitted(event.jobId);
      },
      updateAccepted: (n) => {
        metrics.updatesAccepted.inc();
        metrics.samplesTrained.inc(n);
      },
      updateRejected: (code, jobId) => {
        metrics.updatesRejected.inc({ code });
        if (jobId) metrics.jobUpdatesRejected.inc({ job: jobId, code });
        outcomes.rejected(code, jobId);
        sweeps?.onUpdateRejected(jobId ?? undefined, code);
      },
      roundClosed: (s) => {
        metrics.aggregationSeconds.observe(s);
        stats.observeRound(s);
      },
    },
  });

  sweeps = new SweepRunner({ store, blobs, clock, scheduler, log, codeVersion: codeVersion() });

  const co: Coordinator = {
    config,
    store,
    blobs,
    clock,
    scheduler,
    spotChecks,
    metrics,
    log,
    tokens: new TokenAuthority(store, config),
    registry,
    sweeps,
    inferenceTelemetry: new InferenceTelemetry(metrics.registry),
    stats,
    outcomes,
    alerts: new AlertEngine({ clock, log, metrics }),
    onlineContributors: () => contributors?.online() ?? new Set(),
  };

  const app = new Hono();
  app.onError(onError(log));
  app.use(crossOriginIsolation());
  app.route('/api', createApi(co));
  const serveBlob = async (hash: string) => {
    const bytes = await blobs.get(hash);
    if (!bytes) return null;
    // Content-addressed: the bytes under a hash never change, so caches may keep them forever.
    return new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: { 'content-type': 'application/octet-stream', 'cache-control': IMMUTABLE, etag: `"${hash}"` },
    });
  };
  app.get(
    '/datasets/shards/:hash',
    async (c) => (await serveBlob(c.req.param('hash'))) ?? errorResponse(c, 'NOT_FOUND', 'no such shard'),
  );
  app.get(
    '/models/weights/:hash',
    async (c) => (await serveBlob(c.req.param('hash'))) ?? errorResponse(c, 'NOT_FOUND', 'no such weights'),
  );
  app.get('/metrics', async (c) =>
    c.text(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }),
  );
  // TF.js's wasm binaries for the pages, straight from the installed package.
  app.use(
    '/vendor/tfjs-wasm/*',
    serveStatic({
      root: WASM_DIR,
      rewriteRequestPath: (p) => p.replace(/^\/vendor\/tfjs-wasm/, ''),
    }),
  );
  app.use('/assets/*', async (c, next) => {
    await next();
    if (c.res.status === 200) c.res.headers.set('cache-control', IMMUTABLE);
  });
  // The console is a page of its own (client/admin.html); its views live in the URL hash.
  app.get('/admin', serveStatic({ root: config.staticDir, path: 'admin.html' }));
  app.use('/*', serveStatic({ root: config.staticDir }));
  app.get('/', (c) =>
    errorResponse(
      c,
      'NOT_FOUND',
      'the contribute page is not built; run `npm run build` (npm start does it)',
      404,
    ),
  );
  app.notFound((c) => errorResponse(c, 'NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`));

  const httpServer = createAdaptorServer({ fetch: app.fetch }) as HttpServer;
  io = new Server(httpServer, {
    maxHttpBufferSize: config.socketMessageBytes,
    cors: { origin: true },
  });
  cluster.attach(io);
  contributors = attachContributors(io, co);
  inference = attachInference(io, { registry, telemetry: co.inferenceTelemetry, clock, log });
  consoleNs = attachConsole(io, co, contributors);

  // Once a second: close the telemetry period, then judge the alert rules on fresh figures.
  const alertInputs = new AlertInputs({
    store,
    registry,
    telemetry: co.inferenceTelemetry,
    outcomes,
    references: new DriftReferences(blobs),
    clock,
    thresholds: config.alerts,
  });
  let judging = false;
  const telemetryTick = setInterval(async () => {
    stats.roll();
    if (judging) return;
    judging = true;
    try {
      co.alerts.update(await alertInputs.findings());
    } catch (e) {
      log(`alert rules failed: ${(e as Error).stack}`);
    } finally {
      judging = false;
    }
  }, CONSOLE_SNAPSHOT_MS);

  await ensureFashionMnist(co);
  await spotChecks.init();
  await scheduler.init();
  await sweeps.init();
  await registry.backfill();
  await ensureDemoJob(co);

  await new Promise<void>((resolve) => httpServer.listen(config.port, config.host, resolve));
  const port = (httpServer.address() as AddressInfo).port;
  let ticking = false; // a slow tick (a remote store) must not overlap the next one
  const tick = setInterval(() => {
    if (ticking) return;
    ticking = true;
    scheduler
      .tick()
      .catch((e) => log(`tick failed: ${(e as Error).stack}`))
      .finally(() => {
        ticking = false;
      });
    sweeps?.tick();
  }, config.tickMs);

  return {
    ...co,
    url: `http://localhost:${port}`,
    port,
    httpServer,
    io,
    async close() {
      clearInterval(tick);
      clearInterval(telemetryTick);
      stats.close();
      contributors?.close();
      consoleNs?.close();
      await new Promise<void>((resolve) => io.close(() => resolve()));
      await sweeps?.idle();
      await scheduler.close();
      await cluster.close();
      if (!deps.store) await store.close();
    },
  };
}
