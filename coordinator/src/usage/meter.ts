/**
 * The usage meter: what each job, contributor and day spends, counted where it happens (the
 * scheduler for training time, samples, update bytes and coordinator CPU; the HTTP routes for
 * shards and weights served) and kept in memory until the next flush writes it to the store
 * in one transaction. Only the last flush interval can be lost in a crash; a failed flush puts
 * its rows back so the next one retries them. Prometheus counters move at once.
 */
import type { BackendName } from '@gridtab/shared';
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { Store } from '../storage/store.ts';
import { COUNTERS, type UsageCounters, type UsageRow, zeroCounters } from '../storage/usage-records.ts';

/** Backend class a price table charges by: GPU (webgpu, webgl) or CPU (wasm, cpu). */
export function backendClass(backend: BackendName | string | null | undefined): 'gpu' | 'cpu' {
  return backend === 'webgpu' || backend === 'webgl' ? 'gpu' : 'cpu';
}

export function usageMetrics(registry: Registry) {
  return {
    deviceSeconds: new Counter({
      name: 'gridtab_usage_device_seconds_total',
      help: 'Device seconds of training in accepted updates, by job and backend class',
      labelNames: ['job', 'class'],
      registers: [registry],
    }),
    samples: new Counter({
      name: 'gridtab_usage_samples_total',
      help: 'Samples trained in accepted updates, by job',
      labelNames: ['job'],
      registers: [registry],
    }),
    bytes: new Counter({
      name: 'gridtab_usage_bytes_total',
      help: 'Bytes moved for a job, by direction (down: shards and weights served, up: updates received)',
      labelNames: ['job', 'direction'],
      registers: [registry],
    }),
    blobsCollected: new Counter({
      name: 'gridtab_retention_blobs_deleted_total',
      help: 'Blobs garbage collection deleted after retention released them (updates, pruned versions)',
      registers: [registry],
    }),
    versionsPruned: new Counter({
      name: 'gridtab_retention_versions_pruned_total',
      help: 'Model versions whose weights the version policy pruned (the rows stay for lineage)',
      registers: [registry],
    }),
    bytesCollected: new Counter({
      name: 'gridtab_retention_bytes_freed_total',
      help: 'Bytes garbage collection freed',
      registers: [registry],
    }),
    coordinatorCpuSeconds: new Counter({
      name: 'gridtab_usage_coordinator_cpu_seconds_total',
      help: 'Coordinator CPU seconds validating and aggregating a job',
      labelNames: ['job'],
      registers: [registry],
    }),
  };
}
export type UsageMetrics = ReturnType<typeof usageMetrics>;

export interface MeterDeps {
  store: Store;
  clock: Clock;
  metrics?: UsageMetrics;
  log: (msg: string) => void;
  /**
   * Called after counters of a job moved (budgets check there); `hasBudget` when the caller
   * holds the job and knows, so the check need not read it.
   */
  onUsage?: (jobId: string, hasBudget?: boolean) => void;
  /**
   * False: nothing is metered (GRIDTAB_USAGE_METER=off), so budgets see no spending. Only for
   * measuring the accounting's own cost (bench:load --meter); default true.
   */
  enabled?: boolean;
}

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export class UsageMeter {
  private pending = new Map<string, UsageRow>();
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly deps: MeterDeps) {}

  /** Adds to the counters of (today, job, contributor); contributorId '' for none. */
  add(jobId: string, contributorId: string, delta: Partial<UsageCounters>, hasBudget?: boolean): void {
    if (this.deps.enabled === false) return;
    this.merge({ ...zeroCounters(), ...delta, day: dayOf(this.deps.clock.now()), jobId, contributorId });
    const m = this.deps.metrics;
    if (m) {
      if (delta.gpuMs) m.deviceSeconds.inc({ job: jobId, class: 'gpu' }, delta.gpuMs / 1000);
      if (delta.cpuDeviceMs) m.deviceSeconds.inc({ job: jobId, class: 'cpu' }, delta.cpuDeviceMs / 1000);
      if (delta.samples) m.samples.inc({ job: jobId }, delta.samples);
      if (delta.bytesDown) m.bytes.inc({ job: jobId, direction: 'down' }, delta.bytesDown);
      if (delta.bytesUp) m.bytes.inc({ job: jobId, direction: 'up' }, delta.bytesUp);
      if (delta.coordinatorCpuMs) m.coordinatorCpuSeconds.inc({ job: jobId }, delta.coordinatorCpuMs / 1000);
    }
    this.deps.onUsage?.(jobId, hasBudget);
  }

  /** An accepted update: its training time on its backend, samples and payload bytes. */
  addUpdate(
    jobId: string,
    contributorId: string,
    u: { trainMs: number; backend: string; numSamples: number; bytes: number },
    hasBudget?: boolean,
  ): void {
    const time = backendClass(u.backend) === 'gpu' ? { gpuMs: u.trainMs } : { cpuDeviceMs: u.trainMs };
    this.add(jobId, contributorId, { ...time, samples: u.numSamples, units: 1, bytesUp: u.bytes }, hasBudget);
  }

  /** Runs `work` and charges the job the process CPU time it took (validation, aggregation). */
  async timeCpu<T>(jobId: string, work: () => Promise<T>, hasBudget?: boolean): Promise<T> {
    if (this.deps.enabled === false) return work();
    const started = process.cpuUsage();
    try {
      return await work();
    } finally {
      const used = process.cpuUsage(started);
      // process-wide: concurrent work of other jobs in the same interval is counted here too.
      this.add(jobId, '', { coordinatorCpuMs: (used.user + used.system) / 1000 }, hasBudget);
    }
  }

  /**
   * Flushes and totals run one at a time: a batch being written is in neither `pending` nor
   * (yet) the store, so a total read during a flush would miss it, or count it twice.
   */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  /** Writes what was metered since the last flush, in one store transaction. */
  flush(): Promise<void> {
    return this.exclusive(async () => {
      if (this.pending.size === 0) return;
      const batch = [...this.pending.values()];
      this.pending = new Map();
      try {
        await this.deps.store.usage.add(batch);
      } catch (e) {
        // Back into pending (merged with what came meanwhile), so the next flush retries them.
        for (const r of batch) this.merge(r);
        this.deps.log(`usage flush failed, will retry: ${(e as Error).message}`);
      }
    });
  }

  /** Totals of a job: what the store holds plus what is not flushed yet. */
  totals(jobId: string): Promise<UsageCounters> {
    return this.exclusive(async () => {
      const total = zeroCounters();
      const rows = [...(await this.deps.store.usage.list({ jobId })), ...this.pendingOf(jobId)];
      for (const r of rows) for (const k of COUNTERS) total[k] += r[k];
      return total;
    });
  }

  /** Rows not yet flushed, for reports that must include the last interval. */
  pendingRows(): UsageRow[] {
    return [...this.pending.values()].map((r) => ({ ...r }));
  }

  private merge(r: UsageRow): void {
    const key = `${r.day}\u0000${r.jobId}\u0000${r.contributorId}`;
    let row = this.pending.get(key);
    if (!row) {
      row = { ...zeroCounters(), day: r.day, jobId: r.jobId, contributorId: r.contributorId };
      this.pending.set(key, row);
    }
    for (const k of COUNTERS) row[k] += r[k];
  }

  private pendingOf(jobId: string): UsageRow[] {
    return [...this.pending.values()].filter((r) => r.jobId === jobId);
  }
}
