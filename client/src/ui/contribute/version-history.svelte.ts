/**
 * The job's version history for the accuracy chart: what the coordinator already stored
 * (`GET /api/jobs`, `GET /api/jobs/:id/versions`, fetched on load) merged with the versions the
 * runtime hears live (`job:version`). Both sources describe the same versions, so they are
 * merged by version id; a live event can arrive before the fetch that also contains it returns.
 */
import type { JobView, VersionEvent, VersionView } from '@gridtab/shared';
import { fetchJobs, fetchVersions } from '../api.ts';

export interface AccuracyPoint {
  versionId: string;
  round: number;
  accuracy: number | null;
  loss: number | null;
}

type Keyed = { jobId: string; point: AccuracyPoint };

const fromView = (v: VersionView): Keyed => ({
  jobId: v.jobId,
  point: { versionId: v.id, round: v.round, accuracy: v.metrics.testAccuracy, loss: v.metrics.testLoss },
});

const fromEvent = (e: VersionEvent): Keyed => ({
  jobId: e.jobId,
  point: {
    versionId: e.versionId,
    round: e.round,
    accuracy: e.metrics.testAccuracy,
    loss: e.metrics.testLoss,
  },
});

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class VersionHistory {
  jobs = $state.raw<JobView[]>([]);
  /** Versions per job id, ordered by round. Replaced, never mutated, so readers re-run. */
  byJob = $state.raw<Record<string, AccuracyPoint[]>>({});
  error = $state<string | null>(null);
  loaded = $state(false);

  /** The job to show when the runtime is not working on one: the running one, else the newest. */
  readonly defaultJobId = $derived.by(() => {
    const running = this.jobs.find((j) => j.status === 'running');
    if (running) return running.id;
    const newest = this.jobs.toSorted((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
    return newest?.id ?? null;
  });

  readonly #baseUrl: string;
  readonly #seen = new Set<string>();
  /** Jobs whose stored versions were requested; each is fetched once per page load. */
  readonly #requested = new Set<string>();
  #refresh: Promise<void> | null = null;

  constructor(baseUrl: string) {
    this.#baseUrl = baseUrl;
  }

  /** Loads the job list and the stored versions of the running job(s). */
  async load(): Promise<void> {
    await this.refreshJobs();
    const running = this.jobs.filter((j) => j.status === 'running');
    const targets = running.length > 0 ? running.map((j) => j.id) : [this.defaultJobId];
    await Promise.all(targets.filter((id) => id !== null).map((id) => this.ensureJob(id)));
    this.loaded = true;
  }

  /** Re-reads the job list (round, status, metrics). Concurrent callers share one request. */
  refreshJobs(): Promise<void> {
    this.#refresh ??= fetchJobs(this.#baseUrl)
      .then((jobs) => {
        this.jobs = jobs;
        this.error = null;
      })
      .catch((err) => {
        this.error = `Could not load jobs: ${message(err)}`;
      })
      .finally(() => {
        this.#refresh = null;
      });
    return this.#refresh;
  }

  /** Fetches a job's stored versions, once; a failed fetch may be retried by the next call. */
  async ensureJob(jobId: string): Promise<void> {
    if (this.#requested.has(jobId)) return;
    this.#requested.add(jobId);
    try {
      const versions = await fetchVersions(this.#baseUrl, jobId);
      this.#add(versions.map(fromView));
    } catch (err) {
      this.#requested.delete(jobId);
      this.error = `Could not load version history: ${message(err)}`;
    }
  }

  /** Adds the runtime's live versions; called on every state change, so cheap when none is new. */
  ingest(events: readonly VersionEvent[]): void {
    // A version is heard at its commit (metrics null) and again once evaluated.
    const fresh = events.filter((e) => !this.#seen.has(e.versionId) || this.#fillsIn(fromEvent(e).point));
    if (fresh.length === 0) return;
    this.#add(fresh.map(fromEvent));
    // A new version moves the job's round and metrics, and may have completed it.
    void this.refreshJobs();
  }

  /** The point brings metrics to a version shown without them (evaluated after its commit). */
  #fillsIn(point: AccuracyPoint): boolean {
    if (point.accuracy === null && point.loss === null) return false;
    for (const points of Object.values(this.byJob)) {
      const shown = points.find((p) => p.versionId === point.versionId);
      if (shown) return shown.accuracy === null && shown.loss === null;
    }
    return false;
  }

  #add(items: Keyed[]): void {
    const next = { ...this.byJob };
    let changed = false;
    for (const { jobId, point } of items) {
      if (this.#seen.has(point.versionId) && !this.#fillsIn(point)) continue;
      this.#seen.add(point.versionId);
      const others = (next[jobId] ?? []).filter((p) => p.versionId !== point.versionId);
      next[jobId] = [...others, point];
      changed = true;
    }
    if (!changed) return;
    for (const id of Object.keys(next)) next[id] = next[id].toSorted((a, b) => a.round - b.round);
    this.byJob = next;
  }
}
