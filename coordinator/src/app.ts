/**
 * createCoordinator: wires the store, blobs, scheduler, HTTP routes and socket.io namespaces
 * onto one Node HTTP server. Everything comes in as a dependency or from the config, so tests
 * can run several coordinators in one process.
 */

import { readFileSync } from 'node:fs';
import type { Server as HttpServer, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { CONSOLE_NAMESPACE, CONTRIBUTOR_NAMESPACE, GridTabError, INFERENCE_NAMESPACE } from '@gridtab/shared';
import { createAdaptorServer } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { type Context, Hono } from 'hono';
import { ensureDemoJob, ensureFashionMnist } from './bootstrap.ts';
import { type Clock, systemClock } from './clock.ts';
import { connectCluster } from './cluster/cluster.ts';
import { attachJobControl } from './cluster/job-control.ts';
import type { CoordinatorConfig } from './config.ts';
import { importFile } from './datasets/import/index.ts';
import type { Importer } from './datasets/importer.ts';
import { DatasetRegistry } from './datasets/registry.ts';
import type { Evaluator } from './evaluation/evaluator.ts';
import { EvaluatorThread } from './evaluation/evaluator-thread.ts';
import { createApi } from './http/api.ts';
import { errorResponse, onError } from './http/errors.ts';
import { listenHealth, type MetricsText } from './http/health-listener.ts';
import { crossOriginIsolation } from './http/isolation.ts';
import { TokenAuthority } from './http/tokens.ts';
import { createLogger, type LogFn, logFunction } from './logger.ts';
import { BuildPool } from './model-build/build-pool.ts';
import type { ModelBuilder } from './model-build/model-builder.ts';
import { attachConsole } from './realtime/console.ts';
import { attachContributors } from './realtime/contributors.ts';
import { attachInference } from './realtime/inference.ts';
import { JOIN_WRITES_DEFAULTS, JoinWrites, type JoinWritesOptions } from './realtime/join-writes.ts';
import { createSocketServer, type GridTabServer } from './realtime/server.ts';
import { TurnPacer } from './realtime/turn-pacer.ts';
import { Registry } from './registry/registry.ts';
import { InferenceTelemetry } from './registry/telemetry.ts';
import { type Recomputer, TfRecomputer } from './reputation/recompute.ts';
import { SpotChecks } from './reputation/spot-check.ts';
import { Scheduler } from './scheduler/scheduler.ts';
import { AggregationStreams } from './scheduler/streaming.ts';
import { AddressConnections } from './security/address-connections.ts';
import { SecurityGuard } from './security/guard.ts';
import { securityHeaders } from './security/headers.ts';
import { originAllowed, requestOriginAllowed } from './security/origins.ts';
import type { BlobStore } from './storage/blob-store.ts';
import { encryptIfKeyed, openRawBlobs, openStorage } from './storage/open.ts';
import { RecentBlobs } from './storage/recent-blobs.ts';
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
import { createUsage, type Usage } from './usage/services.ts';

export interface CoordinatorDeps {
  store?: Store;
  blobs?: BlobStore;
  clock?: Clock;
  /**
   * Test-set evaluation of each version, made from the coordinator's blob store (default: a
   * thread of its own, evaluator-thread.ts); the coordinator closes what this makes.
   */
  evaluator?: (blobs: BlobStore) => Evaluator;
  log?: LogFn;
  /** Recomputes units for spot-checks (default: the tabs' trainer on TF.js in this process). */
  recomputer?: Recomputer;
  /** Decides which units are spot-checked (default Math.random). */
  random?: () => number;
  /** Reads uploaded dataset files (default: every format in datasets/import/). */
  importer?: Importer;
  /** Builds incoming model specs (default: a worker pool of config.security.build, closed with the coordinator). */
  builder?: ModelBuilder;
  /** Leases as store rows, honoured after a restart or failover (default: with REDIS_URL). */
  durableLeases?: boolean;
  /** How joins' contributor rows are batched (realtime/join-writes.ts; default JOIN_WRITES_DEFAULTS). */
  joinWrites?: JoinWritesOptions;
}

export interface Coordinator {
  config: CoordinatorConfig;
  /** Builds specs that come from outside off the event loop (model-build/). */
  builder: ModelBuilder;
  store: Store;
  /** Contributor rows of joins, written a batch at a time (realtime/join-writes.ts). */
  joinWrites: JoinWrites;
  blobs: BlobStore;
  clock: Clock;
  scheduler: Scheduler;
  /** Spot-checks, reputation and quarantine (reputation/). */
  spotChecks: SpotChecks;
  metrics: Metrics;
  /** The JSON log (logger.ts); `log(msg)` is info, `log(msg, 'error')` an error. */
  log: LogFn;
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
  /** Dataset names, versions, uploads, lineage and deletion (datasets/registry.ts). */
  datasets: DatasetRegistry;
  /** Per-address limits, client addresses, request identities (security/). */
  guard: SecurityGuard;
  /** Usage accounting, budgets, storage quota and retention (usage/). */
  usage: Usage;
  /** Checks a new job's budget and the storage quota (createJob calls it). */
  admit: Usage['admit'];
  onlineContributors(): Set<string>;
}

export interface RunningCoordinator extends Coordinator {
  url: string;
  port: number;
  /** GRIDTAB_HEALTH_PORT's listener, as bound; null without one. */
  healthPort: number | null;
  httpServer: HttpServer;
  io: GridTabServer;
  /** Re-reads TLS_CERT and TLS_KEY into the running server (main.ts calls it on SIGHUP). */
  reloadTls(): void;
  close(): Promise<void>;
}

const WASM_DIR = `${dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist`;
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Socket handshakes run per turn of the event loop (realtime/turn-pacer.ts). */
const HANDSHAKES_PER_TURN = 8;
/** Job ids as createJob makes them (`j-` and 8 hex digits), with room for other forms. */
const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;

export async function createCoordinator(
  config: CoordinatorConfig,
  deps: CoordinatorDeps = {},
): Promise<RunningCoordinator> {
  const log: LogFn = deps.log ?? logFunction(createLogger(config.logLevel));
  const metrics = createMetrics();
  // The Prometheus text, for /metrics on the public port and on GRIDTAB_HEALTH_PORT's.
  const exposition: MetricsText = async () => ({
    body: await metrics.registry.metrics(),
    contentType: metrics.registry.contentType,
  });
  let io: GridTabServer | null = null;
  const socketsIn = (name: string) => io?.of(name).sockets.size ?? 0;
  const stats = new CoordinatorStats(metrics, () => ({
    contributors: socketsIn(CONTRIBUTOR_NAMESPACE),
    console: socketsIn(CONSOLE_NAMESPACE),
    inference: socketsIn(INFERENCE_NAMESPACE),
  }));
  const opened = deps.store ? null : await openStorage(config);
  // Every store call is timed, whichever store was passed in or opened.
  const store = timedStore(deps.store ?? opened!.store, stats.observeStore);
  // Recently put or read blobs from memory (recent-blobs.ts): a new version's weights are read by
  // the next round and every tab right after the commit.
  const blobs = new RecentBlobs(
    deps.blobs ?? opened?.blobs ?? (await encryptIfKeyed(await openRawBlobs(config), config.dataKeys)),
  );
  const clock = deps.clock ?? systemClock;
  const outcomes = new UpdateOutcomes(config.alerts.rejectionWindowMs);
  const evaluator = deps.evaluator?.(blobs) ?? new EvaluatorThread(blobs);
  let contributors: ReturnType<typeof attachContributors> | null = null;
  let inference: ReturnType<typeof attachInference> | null = null;
  let consoleNs: ReturnType<typeof attachConsole> | null = null;
  let sweeps: SweepRunner | null = null;
  const builder = deps.builder ?? new BuildPool(config.security.build);
  const registry = new Registry({
    store,
    blobs,
    clock,
    log,
    builder,
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
  const usage = createUsage({
    store,
    blobs,
    clock,
    config: config.usage,
    registry: metrics.registry,
    log,
    setStatus: (jobId, status) => scheduler.setStatus(jobId, status),
  });
  // One worker pool per coordinator (started on first use); crashed processes' spill files go now.
  const streams = config.streamingAggregation
    ? new AggregationStreams({ spillRoot: join(config.dataDir, 'spill'), log })
    : undefined;
  await streams?.start();
  const scheduler = new Scheduler({
    streams,
    meter: usage.meter,
    spotChecks,
    store,
    blobs,
    clock,
    evaluator,
    log,
    holdAfter: (jobId, round, samples) => sweeps?.holdAfter(jobId, round, samples) ?? false,
    ownership: cluster.ownership,
    bus: cluster.bus,
    durableLeases: deps.durableLeases,
    events: {
      unitsAvailable: () => contributors?.unitsAvailable(),
      versionCommitted: (event) => {
        metrics.jobRound.set({ job: event.jobId }, event.round);
        metrics.roundsClosed.inc();
        contributors?.namespace.emit('job:version', event);
        sweeps?.onVersionCommitted(event.jobId);
      },
      // Evaluation ends after the next round opened: what reads the metrics hears it here.
      versionEvaluated: (event) => {
        if (event.metrics.testAccuracy !== null)
          metrics.jobAccuracy.set({ job: event.jobId }, event.metrics.testAccuracy);
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

  sweeps = new SweepRunner({
    store,
    blobs,
    clock,
    scheduler,
    log,
    codeVersion: codeVersion(),
    admit: usage.admit,
    builder,
    // Device time as the meter counts it (stored rows plus the unflushed interval).
    deviceMs: async (jobId) => {
      const t = await usage.meter.totals(jobId);
      return t.gpuMs + t.cpuDeviceMs;
    },
    // Trials' jobs are inserted under their dataset's lock, as the API's are (made just below).
    datasets: { holding: (ref, fn) => datasets.holding(ref, fn) },
  });

  const datasets = new DatasetRegistry({
    store,
    blobs,
    clock,
    importer: deps.importer ?? importFile,
    dataDir: config.dataDir,
    maxBytes: config.datasetMaxBytes,
    parallelism: config.importThreads > 0 ? { threads: config.importThreads } : undefined,
    log,
    onProgress: (name, p) => consoleNs?.namespace.emit('dataset:import', { name, ...p }),
    checkQuota: (bytes) => usage.quota.checkQuota(bytes),
  });

  const co: Coordinator = {
    config,
    builder,
    datasets,
    store,
    joinWrites: new JoinWrites(store, deps.joinWrites ?? JOIN_WRITES_DEFAULTS),
    blobs,
    clock,
    scheduler,
    spotChecks,
    metrics,
    log,
    tokens: new TokenAuthority(store, config),
    registry,
    sweeps,
    usage,
    admit: usage.admit,
    inferenceTelemetry: new InferenceTelemetry(metrics.registry),
    stats,
    outcomes,
    alerts: new AlertEngine({ clock, log, metrics }),
    guard: new SecurityGuard(config.security, clock, cluster.limiters(clock)),
    onlineContributors: () => contributors?.online() ?? new Set(),
  };

  const { security } = config;
  const tls = () => ({ cert: readFileSync(security.tlsCert!), key: readFileSync(security.tlsKey!) });
  const app = new Hono();
  app.onError(onError(log));
  app.use('*', securityHeaders(security.tlsCert !== null));
  app.use(crossOriginIsolation());
  app.route('/api', createApi(co));
  const serveBlob = async (hash: string, job: { id: string; spec: { budget?: unknown } } | null) => {
    // Sent, never changed: the kept bytes themselves.
    const bytes = await blobs.peek(hash);
    if (!bytes) return null;
    if (job) usage.meter.add(job.id, '', { bytesDown: bytes.byteLength }, job.spec.budget !== undefined);
    // Content-addressed: the bytes under a hash never change, so caches may keep them forever.
    return new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: { 'content-type': 'application/octet-stream', 'cache-control': IMMUTABLE, etag: `"${hash}"` },
    });
  };
  // `?job=` attributes the bytes to a job's usage; an id that names no job is refused.
  const jobOf = async (c: Context) => {
    const jobId = c.req.query('job');
    if (jobId === undefined) return null;
    if (!JOB_ID.test(jobId)) throw new GridTabError('BAD_REQUEST', 'job must be a job id');
    const job = await store.getJob(jobId);
    if (!job) throw new GridTabError('NOT_FOUND', `job ${jobId} does not exist`);
    return job;
  };
  app.get(
    '/datasets/shards/:hash',
    async (c) =>
      (await serveBlob(c.req.param('hash'), await jobOf(c))) ??
      errorResponse(c, 'NOT_FOUND', 'no such shard'),
  );
  app.get(
    '/models/weights/:hash',
    async (c) =>
      (await serveBlob(c.req.param('hash'), await jobOf(c))) ??
      // A pruned version's row outlives its weights: say so rather than "unknown".
      ((await store.versionRetention.prunedWeights(c.req.param('hash')))
        ? errorResponse(
            c,
            'VERSION_PRUNED',
            'retention pruned these weights: only the version record remains',
          )
        : errorResponse(c, 'NOT_FOUND', 'no such weights')),
  );
  app.get('/metrics', async (c) => {
    const { body, contentType } = await exposition();
    return c.text(body, 200, { 'content-type': contentType });
  });
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

  // With TLS_CERT and TLS_KEY the one port speaks HTTPS (and so WSS for socket.io).
  const httpServer = (
    security.tlsCert
      ? createAdaptorServer({ fetch: app.fetch, createServer: createHttpsServer, serverOptions: tls() })
      : createAdaptorServer({ fetch: app.fetch })
  ) as HttpServer;
  const allowed = security.allowedOrigins;
  const perAddress = new AddressConnections(security.maxConnectionsPerAddress);
  const handshakes = new TurnPacer(HANDSHAKES_PER_TURN);
  const addressOf = (req: { socket: { remoteAddress?: string }; headers: IncomingHttpHeaders }) =>
    co.guard.socketAddress({ address: req.socket.remoteAddress ?? '', headers: req.headers });
  io = createSocketServer(httpServer, {
    maxHttpBufferSize: config.socketMessageBytes,
    // Cross-origin pages get CORS headers only when listed (same-origin pages need none).
    cors: { origin: (origin, cb) => cb(null, originAllowed(origin, undefined, allowed)) },
    // Every engine handshake, websocket or polling: the page's Origin, then the process's cap.
    // A few per turn of the loop (a flood's handshakes otherwise run back to back and hold it),
    // each checked in its own turn, so the caps see the connections earlier turns opened.
    allowRequest: (req, cb) =>
      handshakes.run(() => {
        if (!requestOriginAllowed(req, allowed)) return cb('the page origin may not connect here', false);
        if ((io?.engine.clientsCount ?? 0) >= security.maxConnections)
          return cb('the coordinator holds its most connections; retry later', false);
        if (!perAddress.admits(addressOf(req)))
          return cb('too many connections from this address; close some and retry', false);
        cb(null, true);
      }),
  });
  io.engine.on(
    'connection',
    (socket: { request: IncomingMessage; once(e: 'close', f: () => void): void }) => {
      socket.once('close', perAddress.add(addressOf(socket.request)));
    },
  );
  cluster.attach(io);
  // Pause, resume, cancel and quarantine asked here reach the job's owner (and every copy).
  if (config.redisUrl) attachJobControl(io, { scheduler, spotChecks, log });
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
      await usage.guard.checkAll();
      co.alerts.update([...(await alertInputs.findings()), ...usage.guard.findings()]);
    } catch (e) {
      log(`alert rules failed: ${(e as Error).stack}`, 'error');
    } finally {
      judging = false;
    }
  }, config.alertTickMs);
  // Once a minute (by default): forget full rate-limit buckets, delete contributors that never worked.
  const securityTick = setInterval(async () => {
    co.guard.sweep();
    const cutoff = new Date(clock.now() - security.contributorIdleMs).toISOString();
    try {
      const n = await store.security.deleteIdleContributors(cutoff);
      if (n) log(`deleted ${n} contributors that never did work (last seen before ${cutoff})`);
    } catch (e) {
      log(`contributor cleanup failed: ${(e as Error).message}`);
    }
  }, security.maintenanceTickMs);

  await datasets.init();
  await ensureFashionMnist(co);
  await spotChecks.init();
  await scheduler.init();
  await sweeps.init();
  await registry.backfill();
  await ensureDemoJob(co);

  usage.start();
  await new Promise<void>((resolve) => httpServer.listen(config.port, config.host, resolve));
  const port = (httpServer.address() as AddressInfo).port;
  const health =
    config.healthPort === null ? null : await listenHealth(config.healthPort, config.host, exposition);
  let ticking = false; // a slow tick (a remote store) must not overlap the next one
  const tick = setInterval(() => {
    if (ticking) return;
    ticking = true;
    scheduler
      .tick()
      .catch((e) => log(`tick failed: ${(e as Error).stack}`, 'error'))
      .finally(() => {
        ticking = false;
      });
    sweeps?.tick();
  }, config.tickMs);

  return {
    ...co,
    url: `${security.tlsCert ? 'https' : 'http'}://localhost:${port}`,
    port,
    healthPort: health?.port ?? null,
    httpServer,
    io,
    reloadTls() {
      if (security.tlsCert) (httpServer as unknown as HttpsServer).setSecureContext(tls());
    },
    async close() {
      await health?.close();
      clearInterval(tick);
      clearInterval(securityTick);
      clearInterval(telemetryTick);
      stats.close();
      contributors?.close();
      consoleNs?.close();
      await new Promise<void>((resolve) => io.close(() => resolve()));
      // Joins received before the sockets closed: their rows are written before the store closes.
      await co.joinWrites.close();
      await sweeps?.idle();
      await scheduler.close();
      await evaluator.close?.();
      await streams?.close();
      await usage.close();
      await cluster.close();
      if (!deps.builder) await builder.close();
      if (!deps.store) await store.close();
    },
  };
}
