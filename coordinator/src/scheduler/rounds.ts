/**
 * Synchronous rounds (the schedule of fedavg and diloco): every unit of a round trains on the
 * round's base version; an update counts while its round is open, even past its lease's
 * deadline, as long as nobody else's update for the unit came first. The strategy's schedule
 * says when the round makes its version; then the job's next round opens (a new runner).
 */
import { type DataSpec, GridTabError, type UpdateAck, type UpdateMeta } from '@gridtab/shared';
import type { JobRecord, UpdateRecord } from '../storage/store.ts';
import type { RoundSchedule, Strategy } from '../strategies/index.ts';
import { hasStoppingTarget } from './commit.ts';
import type { Adopted } from './lease-log.ts';
import { type Lease, type RoundState, type UnitState, unitId } from './round.ts';
import { shardLookup } from './round-plans.ts';
import type { JobRunner, RunnerHost, RunnerOffer } from './runner.ts';
import { freeUnit, holdUnit } from './runner.ts';
import { afterRound, takePositions } from './shard-plan.ts';
import type { RoundStream } from './streaming.ts';

export class RoundRunner implements JobRunner {
  readonly late: Map<string, Lease>;

  private constructor(
    private readonly host: RunnerHost,
    readonly strategy: Strategy,
    private readonly schedule: RoundSchedule,
    readonly data: DataSpec,
    readonly state: RoundState,
    private accumulator: RoundStream | null,
    /** Per unit index: its plan position, and the shards of the same place in the next round. */
    private readonly places: { position: number; next: number; nextShards: string[] }[],
  ) {
    this.late = state.late;
  }

  /** Rebuilds the job's current round from the store: units with a stored update are done. */
  static async open(host: RunnerHost, job: JobRecord, strategy: Strategy, schedule: RoundSchedule) {
    const { store, blobs, clock } = host;
    const version = job.versionId ? await store.getVersion(job.versionId) : null;
    if (!version) throw new Error(`job ${job.id} has no base version`);
    const { shardsFor, data } = await shardLookup(store, job);
    const baseBytes = await blobs.get(version.hash);
    if (!baseBytes) throw new Error(`weights ${version.hash} of version ${version.id} are missing`);
    const { unitsPerRound } = job.spec.rounds;
    const stored = await store.listUpdates(job.id, job.round);
    const done = new Set(stored.map((u) => u.unitId));
    const queue = await host.plans.queueOf(job);
    const positions = takePositions(queue, unitsPerRound);
    host.leases.pruneRetired(job.id, job.round);
    const state: RoundState = {
      jobId: job.id,
      round: job.round,
      baseVersionId: version.id,
      baseHash: version.hash,
      paramCount: baseBytes.byteLength / 4,
      openedAt: clock.now(),
      closing: false,
      queue,
      late: new Map(),
      units: Array.from({ length: unitsPerRound }, (_, i) => {
        const id = unitId(job.id, job.round, i);
        const status = done.has(id) ? ('done' as const) : ('pending' as const);
        return { id, index: i, shardHashes: shardsFor(positions[i]), status, lease: null };
      }),
    };
    // Streaming: the accumulator is rebuilt from the round's stored updates (a restart, a takeover).
    const stream = host.streams?.open(job.spec, strategy, state.paramCount, version.round) ?? null;
    await stream?.rebuild(stored, store, blobs);
    host.log(`job ${job.id}: round ${job.round} open on ${version.id} (${done.size}/${unitsPerRound} done)`);
    // Where the next round's units will be if this one delivers all its units (the usual case).
    const all = new Set(state.units.map((u) => u.index));
    const next = takePositions(afterRound(queue, unitsPerRound, all), unitsPerRound);
    const places = positions.map((position, i) => ({
      position,
      next: next[i],
      nextShards: shardsFor(next[i]),
    }));
    return new RoundRunner(host, strategy, schedule, data, state, stream, places);
  }

  get jobId(): string {
    return this.state.jobId;
  }

  get stream(): RoundStream | null {
    return this.accumulator;
  }

  async dispose(): Promise<void> {
    const stream = this.accumulator;
    this.accumulator = null;
    await stream?.close();
  }

  get closing(): boolean {
    return this.state.closing;
  }

  get handsOut(): boolean {
    return !this.state.closing;
  }

  start(job: JobRecord): void {
    if (this.closes(job, false)) this.startClosing(job);
    else this.host.unitsAvailable();
  }

  /**
   * A pending unit: the one whose shards `contributorId` was told to prefetch first, then one
   * nobody was told to prefetch, then any. Its offer hints the shards of the same place in the
   * next round, which this contributor will then be offered first.
   */
  next(contributorId: string): RunnerOffer | undefined {
    const { state, host, places } = this;
    const pending = state.units.filter((u) => u.status === 'pending');
    const hints = host.plans.hintsFor(state.jobId, state.round);
    const unit =
      pending.find((u) => hints.get(places[u.index].position) === contributorId) ??
      pending.find((u) => !hints.has(places[u.index].position)) ??
      pending[0];
    if (!unit) return undefined;
    const base = { id: state.baseVersionId, hash: state.baseHash, round: state.round - 1 };
    const place = places[unit.index];
    host.plans.hint(state.jobId, state.round + 1, place.next, contributorId);
    return { unit, base, round: state.round, prefetch: place.nextShards };
  }

  free(lease: Lease): boolean {
    const { state } = this;
    const unit = state.round === lease.round ? state.units.find((u) => u.id === lease.unitId) : undefined;
    if (unit && !state.closing && unit.status !== 'done') state.late.set(lease.leaseId, lease);
    return freeUnit(unit, lease);
  }

  adopt(lease: Lease, now: number): Adopted {
    const { state } = this;
    if (lease.round < state.round || (lease.round === state.round && state.closing)) return 'retired';
    const unit = lease.round === state.round ? state.units.find((u) => u.id === lease.unitId) : undefined;
    if (!unit || unit.status === 'done') return 'gone';
    return holdUnit(unit, lease, state.late, now);
  }

  resume(now: number): void {
    this.state.openedAt = now;
  }

  tick(job: JobRecord, now: number): void {
    if (now - this.state.openedAt < job.spec.rounds.deadlineMs) return;
    if (this.closes(job, true)) this.startClosing(job);
    else this.state.openedAt = now; // nothing to make a version of: give the round another deadline
  }

  async accept(job: JobRecord, lease: Lease, meta: UpdateMeta, payload: Uint8Array): Promise<UpdateAck> {
    const { host, state: round } = this;
    if (round.round !== lease.round || round.closing || meta.baseVersionId !== round.baseVersionId) {
      host.leases.forget(lease);
      throw new GridTabError('STALE_VERSION');
    }
    const unit = round.units.find((u) => u.id === lease.unitId);
    if (!unit || unit.status === 'done') return this.taken(lease);
    // Past its deadline: the unit goes to someone else, and this result may still be used.
    if (host.clock.now() > lease.deadline && host.leases.has(lease.leaseId)) host.leases.expire(lease);
    const stored = await host.intake.check(job, lease, meta, payload, round.paramCount);
    // The round may have moved on while the blob was written; re-check before committing.
    if (round.closing || !host.isCurrent(this)) throw new GridTabError('STALE_VERSION');
    // Another holder's update may have been accepted meanwhile (TS keeps the narrowing over await).
    if ((unit as UnitState).status === 'done') return this.taken(lease);
    // Folded as soon as its row is in (not awaited: the version waits for it).
    const fold = (record: UpdateRecord) =>
      void this.accumulator?.fold(record, stored.values, lease.baseRound);
    await host.intake.record(job, lease, meta, stored, round.round, fold);
    unit.status = 'done';
    // Whoever else holds this unit (it was handed out again after a deadline) is now too late.
    if (unit.lease) host.leases.forget(unit.lease);
    unit.lease = null;
    host.leases.forget(lease);
    for (const l of [...round.late.values()]) if (l.unitId === unit.id) round.late.delete(l.leaseId);
    if (this.closes(job, false)) this.startClosing(job);
    return { accepted: true, round: round.round };
  }

  /**
   * Another process stored an update for one of this round's units (shared-rounds.ts): the unit
   * is done, as if the update had come here; its sum comes when the round closes (gather).
   */
  acceptedElsewhere(job: JobRecord, round: number, unitId: string, leaseId: string): void {
    const { host, state } = this;
    if (state.round !== round || state.closing) return;
    const unit = state.units.find((u) => u.id === unitId);
    if (!unit || unit.status === 'done') return;
    unit.status = 'done';
    if (unit.lease) host.leases.forget(unit.lease);
    unit.lease = null;
    const lease = host.leases.find(leaseId) ?? state.late.get(leaseId);
    if (lease) host.leases.forget(lease);
    for (const l of [...state.late.values()]) if (l.unitId === unit.id) state.late.delete(l.leaseId);
    if (this.closes(job, false)) this.startClosing(job);
  }

  private taken(lease: Lease): never {
    this.host.leases.forget(lease);
    throw new GridTabError('LEASE_UNKNOWN', 'this unit already has an accepted update');
  }

  private closes(job: JobRecord, deadlinePassed: boolean): boolean {
    const { units } = this.state;
    const done = units.filter((u) => u.status === 'done').length;
    return this.schedule.closes({
      done,
      units: units.length,
      quorum: job.spec.rounds.quorum,
      deadlinePassed,
    });
  }

  private startClosing(job: JobRecord): void {
    const { state, host } = this;
    if (state.closing) return;
    state.closing = true;
    // Results for this round come too late now: their holders hear STALE_VERSION for a while.
    for (const lease of [...state.units.flatMap((u) => (u.lease ? [u.lease] : [])), ...state.late.values()])
      host.leases.retire(lease);
    state.late.clear();
    host.watch(job, this);
  }

  retry(): void {
    this.state.closing = false;
  }

  async makeVersion(job: JobRecord): Promise<void> {
    const { host, state } = this;
    // A job that stops at a target commits a round only once the version the round trained on
    // was evaluated (the evaluation runs while the round trains, so this rarely waits). When that
    // evaluation met the target, the job has ended at that version and this round is dropped, as
    // a round still training then is: its updates stay stored, in no version. Without the wait,
    // rounds faster than evaluation committed past the target, and the job ended on a version
    // whose metrics were not known yet.
    if (hasStoppingTarget(job.spec.stopping)) {
      await host.versions.evaluated(state.baseVersionId);
      if (!host.isCurrent(this)) {
        await this.dispose();
        return;
      }
    }
    await host.gather?.(job, state.round, this.accumulator);
    const made = await host.versions.make(job, state.baseVersionId, state.round, this.accumulator);
    host.detach(this);
    await this.dispose();
    host.plans.closed(job, state.round, state.queue, made.version.unitIds);
    host.versions.announce(job, made, `round ${state.round}, ${made.updates} updates`);
    const updated = (await host.readJob(job.id))!;
    if (updated.status === 'running') await host.open(updated);
    else await host.ended(job.id, updated.status);
  }
}
