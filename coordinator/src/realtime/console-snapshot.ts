/**
 * What the console's live snapshot holds: contributors (with bans and devices), jobs, models
 * and their aliases, coordinator and deployed-model telemetry, and alerts. Built for every
 * push, so it reads only what is cheap: store rows, the registry and in-memory telemetry.
 */
import {
  CONSOLE_CONTRIBUTOR_ROWS,
  type ConsoleContributor,
  type ConsoleDevice,
  type ConsoleModelSummary,
  type ConsoleSnapshot,
  type DeployedVersionTelemetry,
  type JobRoundStats,
  type JobStats,
} from '@gridtab/shared';
import type { Coordinator } from '../app.ts';
import { jobView } from '../http/views.ts';

/** What the console needs from the contributor namespace: who is online, how fast, on what. */

/** What a console snapshot reads of the coordinator. */
export type SnapshotDeps = Pick<
  Coordinator,
  'store' | 'spotChecks' | 'registry' | 'inferenceTelemetry' | 'clock' | 'stats' | 'alerts'
>;

export interface ContributorPresence {
  online(): Set<string>;
  rates(): Map<string, number>;
  devices(): Map<string, ConsoleDevice>;
  /** Disconnects the contributor's sockets and frees its leases on every process; the sockets closed. */
  kick(contributorId: string): Promise<number>;
}

async function contributors(
  co: Pick<SnapshotDeps, 'store' | 'spotChecks'>,
  presence: ContributorPresence,
): Promise<ConsoleContributor[]> {
  const online = presence.online();
  const rates = presence.rates();
  const devices = presence.devices();
  const banned = new Set((await co.store.listBans()).map((b) => b.contributorId));
  // From the store, not this process's cache: another process may have quarantined or released.
  const reputations = await co.spotChecks.views();
  // The most recently seen page only: a join flood must not make every snapshot huge.
  return (await co.store.security.pageContributors(CONSOLE_CONTRIBUTOR_ROWS, null)).map((r) => ({
    id: r.id,
    online: online.has(r.id),
    backend: r.backend,
    unitsDone: r.unitsDone,
    samplesDone: r.samplesDone,
    samplesPerSec: online.has(r.id) ? (rates.get(r.id) ?? 0) : 0,
    lastSeen: r.lastSeen,
    banned: banned.has(r.id),
    device: devices.get(r.id) ?? null,
    ...reputations.get(r.id),
  }));
}

async function models(co: Pick<SnapshotDeps, 'registry'>): Promise<ConsoleModelSummary[]> {
  const out: ConsoleModelSummary[] = [];
  for (const m of await co.registry.listModels()) {
    const record = await co.registry.model(m.name);
    const aliases = [];
    for (const alias of Object.keys(m.aliases)) {
      const a = await co.registry.alias(m.name, alias);
      aliases.push({ alias, versionId: a.versionId, canary: a.canary });
    }
    out.push({ name: m.name, jobId: record.jobId, latestVersionId: m.latestVersionId, aliases });
  }
  return out;
}

/** Every version that SDKs reported on or an alias points at, with what SDKs said about it. */
function deployed(
  co: Pick<SnapshotDeps, 'inferenceTelemetry'>,
  summaries: ConsoleModelSummary[],
): DeployedVersionTelemetry[] {
  const rows = new Map<string, { model: string; versionId: string; aliases: string[] }>();
  const row = (model: string, versionId: string) => {
    const key = `${model}/${versionId}`;
    const r = rows.get(key) ?? { model, versionId, aliases: [] };
    rows.set(key, r);
    return r;
  };
  for (const m of summaries)
    for (const a of m.aliases) {
      row(m.name, a.versionId).aliases.push(a.alias);
      if (a.canary) row(m.name, a.canary.versionId).aliases.push(`${a.alias} (canary)`);
    }
  for (const { name, versionId } of co.inferenceTelemetry.reported()) row(name, versionId);
  return [...rows.values()].map((r) => {
    const t = co.inferenceTelemetry.forVersion(r.model, r.versionId);
    return {
      ...r,
      predictions: t.predictions,
      errors: t.errors,
      errorRate: t.predictions + t.errors > 0 ? t.errors / (t.predictions + t.errors) : null,
      latencyP50Ms: t.latencyMs.p50,
      latencyP95Ms: t.latencyMs.p95,
      backends: t.backends,
    };
  });
}

export async function buildSnapshot(
  co: SnapshotDeps,
  presence: ContributorPresence,
): Promise<Omit<ConsoleSnapshot, 'role'>> {
  const people = await contributors(co, presence);
  const summaries = await models(co);
  return {
    at: co.clock.now(),
    contributorsOnline: presence.online().size,
    samplesPerSec: people.reduce((sum, c) => sum + c.samplesPerSec, 0),
    contributors: people,
    jobs: await Promise.all((await co.store.listJobs()).map((j) => jobView(co.store, j))),
    models: summaries,
    telemetry: { coordinator: co.stats.latest, models: deployed(co, summaries) },
    alerts: co.alerts.list(),
  };
}

/** Participation and throughput per round, from versions (their units) and updates (who sent them). */
export async function jobStats(
  co: Pick<Coordinator, 'store' | 'outcomes'>,
  jobId: string,
): Promise<JobStats> {
  const rounds: JobRoundStats[] = [];
  let previous: number | null = null;
  for (const v of await co.store.listVersions(jobId)) {
    const at = Date.parse(v.createdAt);
    if (v.round > 0) {
      const units = new Set(v.unitIds);
      const used = (await co.store.listUpdates(jobId, v.round)).filter((u) => units.has(u.unitId));
      const seconds = previous === null ? null : Math.max(0, (at - previous) / 1000);
      rounds.push({
        round: v.round,
        versionId: v.id,
        units: v.unitIds.length,
        contributors: new Set(used.map((u) => u.contributorId)).size,
        samples: v.numSamples,
        seconds,
        samplesPerSec: seconds ? v.numSamples / seconds : null,
        testAccuracy: v.metrics.testAccuracy,
      });
    }
    previous = at;
  }
  return { jobId, rounds, rejected: co.outcomes.rejectedFor(jobId) };
}
