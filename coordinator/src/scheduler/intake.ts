/**
 * Taking an update in, the same for every schedule: the payload is decoded and validated against
 * its unit and job (size, codec, shape, finite, norm), stored decoded, then recorded durably with
 * the contributor's credit, usage, measured speed and a possible spot-check. Making a version
 * waits for the inserts in flight for it (insertsDone), so none is left out.
 */
import { randomUUID } from 'node:crypto';
import { GridTabError, type UpdateMeta, type WorkUnit } from '@gridtab/shared';
import { decodeUpdate } from '../aggregation/decode-update.ts';
import { validateUpdate } from '../aggregation/validate.ts';
import type { Clock } from '../clock.ts';
import type { SpotChecks } from '../reputation/spot-check.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { JobRecord, Store, UpdateRecord } from '../storage/store.ts';
import type { UsageMeter } from '../usage/meter.ts';
import type { Lease } from './round.ts';
import { MAX_UNIT_SIZE, type SpeedBook } from './speed.ts';

export interface IntakeDeps {
  store: Pick<Store, 'insertUpdate' | 'recordContribution'>;
  blobs: Pick<BlobStore, 'put'>;
  clock: Clock;
  speeds: Pick<SpeedBook, 'measure' | 'trained'>;
  meter?: Pick<UsageMeter, 'timeCpu' | 'addUpdate'>;
  spotChecks?: Pick<SpotChecks, 'afterAccept'>;
}

/** A checked update, stored. */
export interface StoredUpdate {
  blobHash: string;
  values: Float32Array;
  /** The payload's size as sent (usage counts what crossed the network). */
  bytes: number;
}

export class UpdateIntake {
  /** Update inserts in flight per job and round (a buffered job's version being filled counts as a round). */
  private readonly inserts = new Map<string, Set<Promise<boolean>>>();

  constructor(private readonly deps: IntakeDeps) {}

  /** Checks a payload against the unit and the job and stores it; throws GridTabError. */
  async check(
    job: JobRecord,
    lease: Lease,
    meta: UpdateMeta,
    payload: Uint8Array,
    paramCount: number,
  ): Promise<StoredUpdate> {
    // The mean rule weights updates by the samples a tab claims: a claim above what the unit asked for
    // would let one tab outweigh the rest of the round. A lease read back from the shared store
    // may lack its unit: then the most a speed-sized unit may ask for.
    const { batchSize } = job.spec.hyperparameters;
    const sized = job.spec.rounds.unitSizing === 'speed' || job.spec.rounds.unitSizing === 'time';
    const localSteps =
      lease.unit?.localSteps ?? job.spec.hyperparameters.localSteps * (sized ? MAX_UNIT_SIZE : 1);
    if (meta.numSamples > batchSize * localSteps) {
      throw new GridTabError(
        'BAD_REQUEST',
        `numSamples ${meta.numSamples} is more than the unit's ${localSteps} steps of ${batchSize}`,
      );
    }
    const check = async () => {
      const values = await decodeUpdate(meta, payload, job.spec.codec ?? { name: 'fp32' }, paramCount);
      const decoded = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
      const invalid = validateUpdate(decoded, paramCount, job.spec.maxUpdateNorm);
      if (invalid) throw new GridTabError(invalid.code, invalid.message);
      return { values, decoded };
    };
    const { meter } = this.deps;
    const budgeted = job.spec.budget !== undefined;
    const { values, decoded } = meter ? await meter.timeCpu(job.id, check, budgeted) : await check();
    // Stored decoded: aggregation and audits read float32 whatever the job's codec.
    return { blobHash: await this.deps.blobs.put(decoded), values, bytes: payload.byteLength };
  }

  /**
   * Records a stored update under `round`; LEASE_UNKNOWN when the unit already has one.
   * `onStored` runs once its row is in, before a version waiting for the insert reads the
   * round (streaming aggregation folds it there); it must not throw.
   */
  async record(
    job: JobRecord,
    lease: Lease,
    meta: UpdateMeta,
    { blobHash, values, bytes }: StoredUpdate,
    round: number,
    onStored?: (record: UpdateRecord) => void,
  ): Promise<void> {
    const { store, clock } = this.deps;
    const record: UpdateRecord = {
      id: `u-${randomUUID()}`,
      jobId: job.id,
      round,
      unitId: lease.unitId,
      contributorId: lease.contributorId,
      baseVersionId: lease.baseVersionId,
      numSamples: meta.numSamples,
      loss: meta.loss,
      blobHash,
      createdAt: new Date(clock.now()).toISOString(),
    };
    // Tracked so that a version starting to be made now waits for this insert before it reads.
    const inserting = store.insertUpdate(record).then((inserted) => {
      if (inserted) onStored?.(record);
      return inserted;
    });
    this.track(`${job.id}:${round}`, inserting);
    if (!(await inserting))
      throw new GridTabError('LEASE_UNKNOWN', 'this unit already has an accepted update');
    await store.recordContribution(lease.contributorId, meta.numSamples, record.createdAt);
    this.deps.meter?.addUpdate(
      job.id,
      lease.contributorId,
      { ...meta, bytes },
      job.spec.budget !== undefined,
    );
    this.deps.speeds.measure(lease.contributorId, meta.numSamples, clock.now() - lease.issuedAt);
    this.deps.speeds.trained(job.id, lease.contributorId, meta.numSamples, meta.trainMs);
    // Robustness hook: maybe spot-check it (runs in the background; making the version waits).
    if (lease.unit) {
      void this.deps.spotChecks?.afterAccept({
        spec: job.spec,
        record,
        unit: asTrained(lease.unit, meta.numSamples),
        backend: meta.backend ?? null,
        delta: values,
      });
    }
  }

  /** Waits for the inserts in flight under the job's `round`. */
  async insertsDone(jobId: string, round: number): Promise<void> {
    await Promise.all(this.inserts.get(`${jobId}:${round}`) ?? []).catch(() => {});
  }

  private track(key: string, p: Promise<boolean>): void {
    const set = this.inserts.get(key) ?? new Set<Promise<boolean>>();
    this.inserts.set(key, set);
    const done = () => {
      set.delete(p);
      if (set.size === 0 && this.inserts.get(key) === set) this.inserts.delete(key);
    };
    p.then(done, done);
    set.add(p);
  }
}

/**
 * The unit as the tab trained it, for a replica: a unit sized to time ends where its budget ran
 * out, so it is replayed as a fixed unit of the steps its update claims (the same batches, since
 * the order comes from the seed).
 */
export function asTrained(unit: WorkUnit, numSamples: number): WorkUnit {
  if (unit.trainBudgetMs === undefined) return unit;
  const { trainBudgetMs: _budget, minSteps: _min, ...fixed } = unit;
  return { ...fixed, localSteps: Math.max(1, Math.ceil(numSamples / unit.batchSize)) };
}
