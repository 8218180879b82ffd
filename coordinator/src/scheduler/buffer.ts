/**
 * The buffer schedule (the `buffered` strategy's): no rounds; units walk the shard plan from a
 * pool (pool.ts), each on the newest version, and an update is used whatever version it was
 * trained on within the staleness bound, even past its lease's deadline as long as nobody else's
 * update for the unit came first. The strategy's schedule says when the buffer makes a version.
 */
import { type DataSpec, GridTabError, type UpdateAck, type UpdateMeta } from '@gridtab/shared';
import type { JobRecord, UpdateRecord } from '../storage/store.ts';
import type { BufferSchedule, Strategy } from '../strategies/index.ts';
import type { Adopted } from './lease-log.ts';
import { type PoolState, poolUnitId, poolUnitIndex, restoreUnits, takeUnit } from './pool.ts';
import type { Lease } from './round.ts';
import { shardLookup } from './round-plans.ts';
import { freeUnit, holdUnit, type JobRunner, type RunnerHost } from './runner.ts';
import type { RoundStream } from './streaming.ts';

export class BufferRunner implements JobRunner {
  readonly late: Map<string, Lease>;
  readonly handsOut = true;
  /**
   * Streaming accumulators by the round their updates are stored under: the buffer being filled
   * and, while its version is being made, the next one. Each is opened by its first update.
   */
  private readonly streams = new Map<number, RoundStream>();
  private disposed = false;

  private constructor(
    private readonly host: RunnerHost,
    readonly strategy: Strategy,
    private readonly schedule: BufferSchedule,
    readonly data: DataSpec,
    private readonly shardsFor: (index: number) => string[],
    readonly pool: PoolState,
  ) {
    this.late = pool.late;
  }

  /** Rebuilds a buffered job's pool: units done, lost ones back in the pool, the buffer's count. */
  static async open(host: RunnerHost, job: JobRecord, strategy: Strategy, schedule: BufferSchedule) {
    const { store, blobs } = host;
    const version = job.versionId ? await store.getVersion(job.versionId) : null;
    if (!version) throw new Error(`job ${job.id} has no base version`);
    const baseBytes = await blobs.get(version.hash);
    if (!baseBytes) throw new Error(`weights ${version.hash} of version ${version.id} are missing`);
    const buffer = await store.listUpdates(job.id, job.round);
    // A crash while a version was being made leaves updates for the one after it.
    const overflow = await store.listUpdates(job.id, job.round + 1);
    const pool: PoolState = {
      jobId: job.id,
      version: { id: version.id, round: version.round, hash: version.hash },
      round: job.round,
      paramCount: baseBytes.byteLength / 4,
      units: new Map(),
      done: new Set(),
      next: 0,
      buffered: buffer.length,
      overflow: 0,
      closing: false,
      late: new Map(),
    };
    const committed = (await store.listVersions(job.id)).flatMap((v) => v.unitIds);
    const stored = [...buffer, ...overflow].map((u) => u.unitId);
    const { shardsFor, data } = await shardLookup(store, job);
    restoreUnits(pool, [...committed, ...stored], shardsFor);
    // Updates stored under the next round are kept: they count once this buffer's version is in.
    pool.overflow = overflow.length;
    host.log(
      `job ${job.id}: buffered on ${version.id} (${pool.buffered} in the buffer, ${pool.units.size} units to redo)`,
    );
    const runner = new BufferRunner(host, strategy, schedule, data, shardsFor, pool);
    // Streaming: the accumulators are rebuilt from the stored updates (a restart, a takeover).
    for (const [round, updates] of [
      [pool.round, buffer],
      [pool.round + 1, overflow],
    ] as const) {
      if (updates.length > 0) await runner.streamFor(job, round)?.rebuild(updates, store, blobs);
    }
    return runner;
  }

  get jobId(): string {
    return this.pool.jobId;
  }

  get closing(): boolean {
    return this.pool.closing;
  }

  get stream(): RoundStream | null {
    return this.streams.get(this.pool.round) ?? null;
  }

  /** The accumulator of updates stored under `round`, opened by the first one. */
  private streamFor(job: JobRecord, round: number): RoundStream | null {
    const { pool, host } = this;
    let stream = this.streams.get(round);
    // Rounds already made have no accumulator (their updates were all in before the make read them).
    // A disposed runner opens none (an insert in flight when the job was dropped still calls back).
    if (stream || round < pool.round || !host.streams || this.disposed) return stream ?? null;
    // The buffer being filled goes on the newest version; the next one, on the version being made.
    const baseRound = round === pool.round ? pool.version.round : pool.round;
    stream = host.streams.open(job.spec, this.strategy, pool.paramCount, baseRound) ?? undefined;
    if (stream) this.streams.set(round, stream);
    return stream ?? null;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const streams = [...this.streams.values()];
    this.streams.clear();
    await Promise.all(streams.map((s) => s.close()));
  }

  start(job: JobRecord): void {
    this.maybeClose(job);
    this.host.unitsAvailable();
  }

  next() {
    return { unit: takeUnit(this.pool, this.shardsFor), base: this.pool.version, round: this.pool.round };
  }

  free(lease: Lease): boolean {
    const { pool } = this;
    if (!pool.done.has(lease.unitId)) pool.late.set(lease.leaseId, lease);
    return freeUnit(pool.units.get(lease.unitId), lease);
  }

  adopt(lease: Lease, now: number): Adopted {
    const { pool } = this;
    if (pool.version.round - lease.baseRound > this.schedule.maxStaleness) return 'retired';
    if (pool.done.has(lease.unitId)) return 'gone';
    const index = poolUnitIndex(lease.unitId);
    if (index < 0) return 'gone';
    // A unit past the restored plan's front: it and every unit before it not done are the pool's.
    for (let i = pool.next; i <= index; i++) {
      const id = poolUnitId(pool.jobId, i);
      if (!pool.done.has(id) && !pool.units.has(id))
        pool.units.set(id, { id, index: i, shardHashes: this.shardsFor(i), status: 'pending', lease: null });
    }
    pool.next = Math.max(pool.next, index + 1);
    const unit = pool.units.get(lease.unitId);
    return unit ? holdUnit(unit, lease, pool.late, now) : 'gone';
  }

  resume(): void {}

  async accept(job: JobRecord, lease: Lease, meta: UpdateMeta, payload: Uint8Array): Promise<UpdateAck> {
    const { host, pool } = this;
    const { maxStaleness } = this.schedule;
    if (meta.baseVersionId !== lease.baseVersionId) throw new GridTabError('STALE_VERSION');
    const staleness = pool.version.round - lease.baseRound;
    if (staleness > maxStaleness) {
      this.dropLease(lease);
      throw new GridTabError(
        'STALE_VERSION',
        `the update is ${staleness} versions old; this job uses updates up to ${maxStaleness} old`,
      );
    }
    if (pool.done.has(lease.unitId)) return this.taken(lease);
    const stored = await host.intake.check(job, lease, meta, payload, pool.paramCount);
    if (!host.isCurrent(this)) throw new GridTabError('JOB_NOT_RUNNING');
    if (pool.done.has(lease.unitId)) return this.taken(lease);
    // While a version is being made from the buffer, new updates fill the next one.
    const round = pool.closing ? pool.round + 1 : pool.round;
    // Folded as soon as its row is in (not awaited: the version waits for it).
    const fold = (record: UpdateRecord) =>
      void this.streamFor(job, round)?.fold(record, stored.values, lease.baseRound);
    await host.intake.record(job, lease, meta, stored, round, fold);
    pool.done.add(lease.unitId);
    const unit = pool.units.get(lease.unitId);
    pool.units.delete(lease.unitId);
    // Whoever else holds this unit (it was handed out again after a deadline) is now too late.
    if (unit?.lease) host.leases.remove(unit.lease.leaseId);
    this.dropLease(lease);
    // Counted against the pool as it is now (a version may have been made while this was stored):
    // an update for a version already being made, or made, is in it (making waits for inserts).
    if (round === pool.round + 1) pool.overflow++;
    else if (round === pool.round && !pool.closing) pool.buffered++;
    this.maybeClose(job);
    return { accepted: true, round };
  }

  private taken(lease: Lease): never {
    this.dropLease(lease);
    throw new GridTabError('LEASE_UNKNOWN', 'this unit already has an accepted update');
  }

  /** Forgets a lease for good (used, refused, or too old to be used). */
  private dropLease(lease: Lease): void {
    if (this.host.leases.has(lease.leaseId)) this.host.leases.expire(lease);
    else freeUnit(this.pool.units.get(lease.unitId), lease);
    this.pool.late.delete(lease.leaseId);
    this.host.leases.durable?.delete(lease.leaseId);
  }

  private maybeClose(job: JobRecord): void {
    const { pool } = this;
    if (pool.closing || !this.schedule.closes(pool.buffered)) return;
    pool.closing = true;
    this.host.watch(job, this);
  }

  retry(): void {
    this.pool.closing = false;
  }

  async makeVersion(job: JobRecord): Promise<void> {
    const { host, pool } = this;
    const stream = this.streams.get(pool.round) ?? null;
    const made = await host.versions.make(job, pool.version.id, pool.round, stream);
    this.streams.delete(pool.round);
    await stream?.close();
    const { version, status } = made;
    pool.version = { id: version.id, round: version.round, hash: version.hash };
    pool.round = version.round + 1;
    pool.buffered = pool.overflow;
    pool.overflow = 0;
    pool.closing = false;
    host.versions.announce(job, made, `${made.updates} buffered updates`);
    // A finished or cancelled job keeps no pool. Its leases stay until their deadline so tabs
    // still training on it hear JOB_NOT_RUNNING, not LEASE_UNKNOWN.
    if (status !== 'running') {
      host.detach(this);
      return host.ended(job.id, status);
    }
    // Units whose base is now too old to be used go to someone else at once; their holders
    // still hear STALE_VERSION for a couple of versions, then only LEASE_UNKNOWN.
    const { maxStaleness } = this.schedule;
    const age = (l: { baseRound: number }) => pool.version.round - l.baseRound;
    for (const lease of host.leases.all())
      if (lease.jobId === job.id && age(lease) > maxStaleness) host.leases.expire(lease);
    for (const lease of [...pool.late.values()])
      if (age(lease) > maxStaleness + 2) pool.late.delete(lease.leaseId);
    host.unitsAvailable();
    this.maybeClose((await host.readJob(job.id)) ?? job);
  }
}
