/**
 * One job across processes (issue 17 part 3; docs/SCALING.md, "One job on several processes").
 * With several coordinators one process owns each job (cluster/ownership.ts) and runs its
 * rounds; before this, a tab connected to another process was sent to the owner, so a second
 * process added connections but no throughput for the job. Now, for a job whose versions are the
 * weighted mean of a round's updates (shareable()), any process takes the job's updates in:
 *
 * - Units: a non-owner asks the owner for a unit over the job bus (cluster/job-bus.ts); the
 *   owner issues the lease as for its own tabs (a store row, written before the unit goes out).
 * - Updates: a non-owner finds the lease in the store, checks the update as the owner would
 *   (intake.ts: size, codec, shape, finite, norm), stores its blob and its row (the ack waits for
 *   them, as at the owner; the row's uniqueness per unit keeps a unit from counting twice),
 *   folds it into its own partial sum of the round (a StreamingMean: the float64 sum of
 *   numSamples * delta, and the total samples) and tells the owner, which marks the unit done.
 * - Closing: when the round closes, the owner asks every other process on the bus for its
 *   partial sum ("flush"). Each one first stops taking updates for that round, waits for its
 *   inserts in flight, then writes the sum as a blob and answers with its hash, the samples,
 *   and the updates it covers. The owner adds the partial sums to its own (RoundStream.addPartial)
 *   and finishes base + sum / total.
 *
 * The partial sums are never the record, the stored updates are: the owner makes the version from
 * them in batch whenever the sums do not cover exactly the round's stored updates (a process did
 * not answer in time, a fold failed, a partial overlaps updates the owner rebuilt after a
 * takeover). A new owner rebuilds the round from the stored updates, as it always did.
 */
import { GridTabError, type JobSpec, type UpdateAck, type UpdateMeta, type WorkUnit } from '@gridtab/shared';
import type { StreamingMean } from '../aggregation/streaming/index.ts';
import type { JobBus } from '../cluster/job-bus.ts';
import type { JobOwnership } from '../cluster/ownership.ts';
import type { SpotChecks } from '../reputation/spot-check.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { JobRecord, Store } from '../storage/store.ts';
import { jobStrategy } from '../strategies/index.ts';
import type { UpdateIntake } from './intake.ts';
import type { LeaseLog } from './lease-log.ts';
import type { AggregationStreams, CoveredUpdate, RoundStream } from './streaming.ts';

/** How long a non-owner waits for the owner's unit. */
const UNIT_TIMEOUT_MS = 2000;
/** How long the owner waits for the partial sums when a round closes (then: batch). */
const FLUSH_TIMEOUT_MS = 5000;

/** Whether any process may take the job's updates in: the mean rule, synchronous rounds, no spot-checks. */
export function shareable(spec: JobSpec): boolean {
  if (spec.aggregation.rule !== 'mean' || spec.spotChecks) return false;
  const strategy = jobStrategy(spec);
  return strategy.schedule.kind === 'rounds' && !!strategy.streaming && !strategy.streaming.scaleDelta;
}

export interface SharedRoundsDeps {
  bus: JobBus;
  store: Pick<Store, 'getVersion' | 'listJobs'>;
  blobs: Pick<BlobStore, 'get' | 'put' | 'delete'>;
  streams: AggregationStreams;
  intake: UpdateIntake;
  leaseLog: LeaseLog;
  ownership: JobOwnership;
  spotChecks?: Pick<SpotChecks, 'isQuarantined'>;
  log: (msg: string) => void;
  /** The job as the store has it now. */
  readJob(jobId: string): Promise<JobRecord | null>;
  /** Whether this process runs the job (owns it and has its runner). */
  runsHere(jobId: string): boolean;
  /** At the owner: a unit of the job for a tab of another process, its lease issued; null: none now. */
  offer(jobId: string, contributorId: string): Promise<WorkUnit | null>;
  /** At the owner: another process stored an update for the unit. */
  acceptedElsewhere(notice: Accepted): Promise<void>;
}

export interface Accepted {
  jobId: string;
  round: number;
  unitId: string;
  leaseId: string;
}

interface FlushAnswer {
  partial: { blobHash: string; totalSamples: number; count: number; updates: CoveredUpdate[] } | null;
  /** The process folded updates but cannot vouch for its sum. */
  failed?: boolean;
}

/** A non-owner's partial sum of one round of one job. */
interface Partial {
  round: number;
  paramCount: number;
  acc: StreamingMean;
  updates: CoveredUpdate[];
  failure: Error | null;
  /** Replaced by a newer round's, or given to the owner: takes no more updates. */
  retired: boolean;
}

export class SharedRounds {
  /** This process's partial sum of each job it takes updates of (its newest round). */
  private readonly partials = new Map<string, Promise<Partial>>();
  /** Per job, the newest round the owner asked to close: no update of it or before is taken here. */
  private readonly closed = new Map<string, number>();

  constructor(private readonly deps: SharedRoundsDeps) {
    const { bus } = deps;
    bus.on('unit', (body) => this.onUnit(body as { jobId: string; contributorId: string }));
    bus.on('accepted', (body) => {
      void deps
        .acceptedElsewhere(body as Accepted)
        .catch((e) => deps.log(`accepted elsewhere: ${e.message}`));
      return undefined;
    });
    bus.on('flush', (body) => this.onFlush(body as { jobId: string; round: number }));
  }

  /** A non-owner's tab asks for work: a unit of a shareable job another process owns. */
  async requestUnit(contributorId: string): Promise<WorkUnit | null> {
    for (const job of await this.deps.store.listJobs()) {
      if (job.status !== 'running' || this.deps.runsHere(job.id) || !shareable(job.spec)) continue;
      // Only while the owner is known (its key names its URL): accept() takes updates in then only.
      const owner = await this.deps.ownership.ownerUrl(job.id);
      if (!owner || owner === this.deps.ownership.selfUrl) continue;
      const [answer] = await this.deps.bus.request(
        'unit',
        { jobId: job.id, contributorId },
        1,
        UNIT_TIMEOUT_MS,
      );
      const unit = (answer as { unit: WorkUnit | null } | undefined)?.unit;
      if (unit) return unit;
    }
    return null;
  }

  /**
   * An update whose lease another (live) process issued, for a shareable job: taken in here.
   * null: not such an update (the caller goes on as before: its own leases, or a takeover).
   */
  async accept(contributorId: string, meta: UpdateMeta, payload: Uint8Array): Promise<UpdateAck | null> {
    const { deps } = this;
    const lease = await deps.leaseLog.get(meta.leaseId, (id) => deps.readJob(id));
    if (!lease || deps.runsHere(lease.jobId)) return null;
    const job = await deps.readJob(lease.jobId);
    if (job?.status !== 'running' || !shareable(job.spec)) return null;
    // No live owner: the caller takes the job over (and so the lease), as after a failover.
    const owner = await deps.ownership.ownerUrl(job.id);
    if (!owner || owner === deps.ownership.selfUrl) return null;
    if (lease.contributorId !== contributorId || lease.unitId !== meta.unitId)
      throw new GridTabError('LEASE_UNKNOWN');
    if (await deps.spotChecks?.isQuarantined(contributorId)) throw new GridTabError('QUARANTINED');
    const { round } = lease;
    const current = () =>
      round === job.round && lease.baseVersionId === job.versionId && (this.closed.get(job.id) ?? -1) < round;
    if (!current() || meta.baseVersionId !== lease.baseVersionId) throw new GridTabError('STALE_VERSION');
    const partial = await this.partialOf(job);
    if (partial.round !== round) throw new GridTabError('STALE_VERSION');
    const checked = await deps.intake.check(job, lease, meta, payload, partial.paramCount);
    // The owner may have asked for the sum while the blob was written. Checked and inserted in
    // one turn of the event loop, so a flush arriving now waits for this insert.
    if (!current() || partial.retired) throw new GridTabError('STALE_VERSION');
    await deps.intake.record(job, lease, meta, checked, round, (record) => {
      partial.updates.push({ id: record.id, blobHash: record.blobHash, unitId: record.unitId });
      partial.acc.fold({ delta: checked.values, numSamples: record.numSamples }).catch((e) => {
        partial.failure ??= e as Error;
      });
    });
    const notice: Accepted = { jobId: job.id, round, unitId: lease.unitId, leaseId: lease.leaseId };
    deps.bus.notify('accepted', notice);
    // This process may have taken the job over meanwhile (its owner died): the bus does not
    // bring a process its own notices, so the unit is marked done here too (a no-op otherwise).
    void deps.acceptedElsewhere(notice).catch((e) => deps.log(`accepted here: ${e.message}`));
    return { accepted: true, round };
  }

  /** This process's partial sum of the job's current round (a newer round replaces an older one). */
  private partialOf(job: JobRecord): Promise<Partial> {
    const existing = this.partials.get(job.id);
    const made = (async () => {
      const had = await existing;
      if (had && had.round >= job.round) return had;
      if (had) {
        had.retired = true;
        void had.acc.close();
      }
      const version = job.versionId ? await this.deps.store.getVersion(job.versionId) : null;
      const bytes = version ? await this.deps.blobs.get(version.hash) : null;
      if (!bytes) throw new Error(`job ${job.id}: its base weights are missing`);
      const paramCount = bytes.byteLength / 4;
      return {
        round: job.round,
        paramCount,
        acc: this.deps.streams.mean(paramCount),
        updates: [],
        failure: null,
        retired: false,
      };
    })();
    this.partials.set(job.id, made);
    made.catch(() => {
      if (this.partials.get(job.id) === made) this.partials.delete(job.id);
    });
    return made;
  }

  /** At the owner: a unit for a tab of another process. */
  private async onUnit({ jobId, contributorId }: { jobId: string; contributorId: string }) {
    if (!this.deps.runsHere(jobId)) return undefined;
    return { unit: await this.deps.offer(jobId, contributorId) };
  }

  /** At every other process: the owner closes the round; the sum of its updates stored here. */
  private async onFlush({ jobId, round }: { jobId: string; round: number }): Promise<FlushAnswer> {
    this.closed.set(jobId, Math.max(round, this.closed.get(jobId) ?? -1));
    await this.deps.intake.insertsDone(jobId, round);
    const pending = this.partials.get(jobId);
    const partial = pending ? await pending.catch(() => null) : null;
    if (!partial || partial.round !== round) return { partial: null };
    partial.retired = true;
    if (this.partials.get(jobId) === pending) this.partials.delete(jobId);
    try {
      if (partial.updates.length === 0) return { partial: null };
      const { sum, totalSamples, count } = await partial.acc.partial();
      if (partial.failure || count !== partial.updates.length) return { partial: null, failed: true };
      const blobHash = await this.deps.blobs.put(new Uint8Array(sum.buffer));
      return { partial: { blobHash, totalSamples, count, updates: partial.updates } };
    } finally {
      void partial.acc.close();
    }
  }

  /**
   * At the owner, before the round's version is made: the other processes' partial sums, added
   * to the round's stream. Also when the round is made in batch, since the flush is what stops
   * the other processes from storing more updates under it.
   */
  async gather(jobId: string, round: number, stream: RoundStream | null): Promise<void> {
    const { bus, blobs, log } = this.deps;
    // A partial sum this process made before it took the job over is in the stored updates now.
    const own = this.partials.get(jobId);
    this.partials.delete(jobId);
    void own
      ?.then((p) => {
        p.retired = true;
        return p.acc.close();
      })
      .catch(() => {});
    const peers = await bus.peers();
    if (peers === 0) return;
    const answers = (await bus.request('flush', { jobId, round }, peers, FLUSH_TIMEOUT_MS)) as FlushAnswer[];
    if (answers.length < peers)
      log(`job ${jobId}: ${answers.length} of ${peers} processes gave their partial sums of round ${round}`);
    // Added in a fixed order (by the first update each covers): float64 addition is not associative.
    const partials = answers.flatMap((a) => (a.partial ? [a.partial] : []));
    partials.sort((x, y) => (x.updates[0].id < y.updates[0].id ? -1 : 1));
    for (const partial of partials) {
      if (!stream) continue;
      const bytes = await blobs.get(partial.blobHash);
      if (!bytes) continue; // the stored updates are not all covered: the version is made in batch
      const sum = new Float64Array(bytes.byteLength / 8);
      new Uint8Array(sum.buffer).set(bytes);
      // Read once, by this owner: the sum is a message, not a record.
      void blobs.delete(partial.blobHash).catch(() => {});
      stream.addPartial({ sum, totalSamples: partial.totalSamples, count: partial.count }, partial.updates);
    }
  }
}
