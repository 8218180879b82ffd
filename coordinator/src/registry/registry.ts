/**
 * The model registry: names over versions, aliases over names. A job's versions form the model
 * named in the registry for that job (by default a slug of the job name, registered when the
 * job is created; an admin can rename it). A sweep trial's job is no model until it is published
 * (POST /api/sweeps/:id/promote or POST /api/models). An imported TF.js model is a model with no
 * job. Aliases point at versions, may split traffic with a canary, keep a history that
 * rollback walks back through, and can follow a job automatically when its metric improves.
 */
import { randomUUID } from 'node:crypto';
import {
  FASHION_MNIST_CLASSES,
  GridTabError,
  REGISTRY_NAME_PATTERN,
  type VersionMetrics,
} from '@gridtab/shared';
import type { Clock } from '../clock.ts';
import { resolveDataset } from '../datasets/data-spec.ts';
import type { ModelBuilder } from '../model-build/model-builder.ts';
import { planShards } from '../scheduler/shard-plan.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type {
  AliasMove,
  AliasRecord,
  AutoPromote,
  Canary,
  ModelRecord,
} from '../storage/registry-records.ts';
import type { DatasetRecord, JobRecord, Store } from '../storage/store.ts';
import { pickVersion } from './canary.ts';
import { importLayersModel, type LayersModelJson, toModelJson } from './export.ts';

export interface ModelVersion {
  id: string;
  hash: string;
  parentId: string | null;
  jobId: string | null;
  round: number | null;
  createdAt: string;
  metrics: VersionMetrics;
  /** The dataset version the job trained on; null for an imported model. */
  dataset: { name: string; version: number; hash: string } | null;
  /** True when retention pruned its weights: the record and lineage stay, the weights are gone. */
  pruned?: boolean;
}

export interface ModelSummary {
  name: string;
  aliases: Record<string, string>;
  latestVersionId: string | null;
}

export interface RegistryDeps {
  store: Store;
  blobs: BlobStore;
  clock: Clock;
  log: (msg: string) => void;
  /** Called after every alias move (admin, auto-promotion, rollback). */
  aliasMoved?: (move: AliasMove) => void;
  /** Where imported and exported topologies are built (default: this thread). */
  builder?: ModelBuilder;
}

const NO_METRICS: VersionMetrics = { testAccuracy: null, testLoss: null };

export function slugify(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
}

export function checkName(kind: 'model' | 'alias', name: string): void {
  if (!REGISTRY_NAME_PATTERN.test(name))
    throw new GridTabError('BAD_REQUEST', `${kind} names are 1-64 letters, digits, '.', '_' or '-'`);
}

export class Registry {
  constructor(private readonly deps: RegistryDeps) {}

  private get records() {
    return this.deps.store.registry;
  }

  private now(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }

  /**
   * Registers a job's model under a slug of its job's name (`<slug>-<jobId>` when the slug is
   * taken); createJob calls it for every job that is a model (sweep trials are not). Returns the
   * job's model when it already has one. Safe beside another coordinator sharing the store: a
   * unique violation means it registered the job or took the name first, so look again.
   */
  async registerJob(job: Pick<JobRecord, 'id' | 'name' | 'createdAt'>): Promise<ModelRecord> {
    const slug = slugify(job.name) || job.id;
    let refused: unknown = null;
    for (const name of [slug, `${slug}-${job.id}`]) {
      const mine = await this.records.getModelByJob(job.id);
      if (mine) return mine;
      if (await this.records.getModel(name)) continue;
      const model: ModelRecord = { name, jobId: job.id, autoPromote: null, createdAt: job.createdAt };
      try {
        await this.records.insertModel(model);
        return model;
      } catch (e) {
        refused = e;
      }
    }
    const mine = await this.records.getModelByJob(job.id);
    if (mine) return mine;
    throw refused ?? new GridTabError('CONFLICT', `no free model name for job ${job.id}`);
  }

  /**
   * Once at start-up: registers the jobs created before createJob registered them (or whose
   * registration a crash cut off), so that reads never scan jobs. Sweep trials are skipped:
   * they are not models until published.
   */
  async backfill(): Promise<number> {
    const registered = new Set((await this.records.listModels()).map((m) => m.jobId));
    const trials = new Set<string>();
    for (const sweep of await this.deps.store.sweeps.listSweeps())
      for (const t of await this.deps.store.sweeps.listTrials(sweep.id)) {
        if (t.jobId) trials.add(t.jobId);
        for (const id of t.reruns) trials.add(id);
      }
    let added = 0;
    for (const job of await this.deps.store.listJobs()) {
      if (registered.has(job.id) || trials.has(job.id)) continue;
      await this.registerJob(job);
      added++;
    }
    if (added) this.deps.log(`registry: registered ${added} job(s) created before registration at creation`);
    return added;
  }

  async model(name: string): Promise<ModelRecord> {
    const m = await this.records.getModel(name);
    if (!m) throw new GridTabError('NOT_FOUND', `model ${name} does not exist`);
    return m;
  }

  async listModels(): Promise<ModelSummary[]> {
    const summaries: ModelSummary[] = [];
    for (const m of await this.records.listModels()) {
      const aliases = await this.records.listAliases(m.name);
      summaries.push({
        name: m.name,
        aliases: Object.fromEntries(aliases.map((a) => [a.alias, a.versionId])),
        latestVersionId: (await this.versions(m.name)).at(-1)?.id ?? null,
      });
    }
    return summaries;
  }

  /** Oldest first. */
  async versions(name: string): Promise<ModelVersion[]> {
    const m = await this.model(name);
    if (m.jobId) {
      const d = await this.datasetOf(m.jobId);
      const dataset = d && { name: d.name, version: d.version, hash: d.hash };
      return (await this.deps.store.listVersions(m.jobId)).map((v) => ({
        id: v.id,
        hash: v.hash,
        parentId: v.parentId,
        jobId: v.jobId,
        round: v.round,
        createdAt: v.createdAt,
        metrics: v.metrics,
        dataset,
        ...(v.pruned && { pruned: true }),
      }));
    }
    return (await this.records.listImportedVersions(m.name)).map((v) => ({
      id: v.id,
      hash: v.hash,
      parentId: v.parentId,
      jobId: null,
      round: null,
      createdAt: v.createdAt,
      metrics: NO_METRICS,
      dataset: null,
    }));
  }

  async version(name: string, id: string): Promise<ModelVersion> {
    const v = (await this.versions(name)).find((x) => x.id === id);
    if (!v) throw new GridTabError('NOT_FOUND', `model ${name} has no version ${id}`);
    return v;
  }

  /** A version whose weights are held: VERSION_PRUNED when retention pruned them. */
  async loadableVersion(name: string, id: string): Promise<ModelVersion> {
    const v = await this.version(name, id);
    if (v.pruned)
      throw new GridTabError(
        'VERSION_PRUNED',
        `version ${id} of ${name} was pruned: only its record remains`,
      );
    return v;
  }

  async topology(name: string, versionId: string): Promise<Record<string, unknown>> {
    const m = await this.model(name);
    if (m.jobId) return (await this.deps.store.getJob(m.jobId))!.spec.model;
    const v = await this.records.getImportedVersion(versionId);
    const bytes = v && (await this.deps.blobs.get(v.topologyHash));
    if (!bytes) throw new GridTabError('NOT_FOUND', `the topology of ${versionId} is missing`);
    return JSON.parse(new TextDecoder().decode(bytes));
  }

  /** The dataset version a job trains on, as its spec names it (`name@version`, or legacy ids). */
  private async datasetOf(jobId: string): Promise<DatasetRecord | null> {
    const ref = (await this.deps.store.getJob(jobId))?.spec.dataset;
    return ref ? resolveDataset(this.deps.store, ref) : null;
  }

  async modelJson(name: string, versionId: string): Promise<LayersModelJson> {
    const v = await this.loadableVersion(name, versionId);
    const m = await this.model(name);
    const dataset = m.jobId ? await this.datasetOf(m.jobId) : null;
    const schema = dataset?.schema;
    return toModelJson(
      await this.topology(name, versionId),
      {
        model: name,
        versionId,
        hash: v.hash,
        weightBytes: (await this.deps.blobs.get(v.hash))?.byteLength ?? 0,
        labels: schema?.classNames ?? (dataset?.name === 'fashion-mnist' ? [...FASHION_MNIST_CLASSES] : null),
        // What the SDK needs to feed the model as training did and to read its outputs.
        dataset: dataset?.id ?? null,
        task: schema?.task ?? null,
        normalization: dataset?.normalization ?? null,
        classNames: schema?.classNames ?? null,
        targetNames: schema?.targetNames ?? null,
      },
      this.deps.builder,
    );
  }

  /** Names a job's model (renaming its current registration) and sets its auto-promotion. */
  async bindJob(name: string, jobId: string, autoPromote: AutoPromote | null): Promise<ModelRecord> {
    checkName('model', name);
    if (autoPromote) checkName('alias', autoPromote.alias);
    const job = await this.deps.store.getJob(jobId);
    if (!job) throw new GridTabError('NOT_FOUND', `job ${jobId} does not exist`);
    const taken = () => new GridTabError('CONFLICT', `model name ${name} is taken`);
    let current = await this.records.getModelByJob(jobId);
    if (!current) {
      // A job that is no model yet (a sweep trial): publishing it registers it under this name.
      if (await this.records.getModel(name)) throw taken();
      const model: ModelRecord = { name, jobId, autoPromote, createdAt: job.createdAt };
      try {
        await this.records.insertModel(model);
        current = model;
      } catch (e) {
        // Another coordinator sharing the store took the name or registered the job first.
        current = await this.records.getModelByJob(jobId);
        if (!current) throw (await this.records.getModel(name)) ? taken() : e;
      }
    }
    if (current.name !== name) {
      if (await this.records.getModel(name)) throw taken();
      await this.records.renameModel(current.name, name);
    }
    await this.records.setAutoPromote(name, autoPromote);
    return (await this.records.getModel(name))!;
  }

  async alias(name: string, alias: string): Promise<AliasRecord> {
    await this.model(name);
    const a = await this.records.getAlias(name, alias);
    if (!a) throw new GridTabError('NOT_FOUND', `model ${name} has no alias ${alias}`);
    return a;
  }

  async history(name: string, alias: string): Promise<AliasMove[]> {
    await this.alias(name, alias);
    return this.records.aliasHistory(name, alias);
  }

  async moveAlias(
    name: string,
    alias: string,
    target: { versionId: string; canary?: Canary | null },
    actor = 'admin',
  ): Promise<AliasMove> {
    checkName('alias', alias);
    await this.loadableVersion(name, target.versionId);
    const canary = target.canary ?? null;
    if (canary) {
      await this.loadableVersion(name, canary.versionId);
      if (!(canary.fraction >= 0 && canary.fraction <= 1))
        throw new GridTabError('BAD_REQUEST', 'canary.fraction is a share between 0 and 1');
    }
    const move = await this.records.moveAlias(
      { modelName: name, alias, versionId: target.versionId, canary, updatedAt: this.now() },
      actor,
    );
    this.deps.log(
      `model ${name}: ${alias} -> ${move.versionId}${canary ? ` (canary ${canary.versionId} at ${canary.fraction})` : ''} by ${actor}`,
    );
    this.deps.aliasMoved?.(move);
    return move;
  }

  /** Undoes the alias's last move that was not itself undone (history is a stack of moves). */
  async rollback(name: string, alias: string): Promise<AliasMove> {
    const stack: AliasMove[] = [];
    for (const m of await this.history(name, alias)) {
      if (m.actor === 'rollback') stack.pop();
      else stack.push(m);
    }
    const target = stack.at(-2);
    if (!target) throw new GridTabError('CONFLICT', `alias ${alias} of ${name} has no earlier version`);
    return this.moveAlias(name, alias, { versionId: target.versionId, canary: target.canary }, 'rollback');
  }

  /** The version this client gets from the alias, canary split included. */
  async resolve(name: string, alias: string, clientKey: string) {
    const picked = pickVersion(await this.alias(name, alias), clientKey);
    return { name, alias, ...picked, hash: (await this.version(name, picked.versionId)).hash };
  }

  /** Auto-promotion: after a job commits a version, move the model's alias if it is better. */
  async onVersionCommitted(jobId: string, versionId: string): Promise<AliasMove | null> {
    // Called from the scheduler's commit path: a registry failure is logged, never thrown there.
    try {
      return await this.autoPromote(jobId, versionId);
    } catch (e) {
      this.deps.log(`registry: auto-promotion after ${versionId} failed: ${(e as Error).message}`);
      return null;
    }
  }

  private async autoPromote(jobId: string, versionId: string): Promise<AliasMove | null> {
    const m = await this.records.getModelByJob(jobId);
    if (!m?.autoPromote) return null;
    const { alias, metric } = m.autoPromote;
    const candidate = (await this.version(m.name, versionId)).metrics[metric];
    if (candidate === null) return null;
    const current = await this.records.getAlias(m.name, alias);
    if (current) {
      const held = (await this.deps.store.getVersion(current.versionId))?.metrics[metric] ?? null;
      const better = metric === 'testLoss' ? candidate < (held ?? Infinity) : candidate > (held ?? -Infinity);
      if (!better) return null;
    }
    return this.moveAlias(m.name, alias, { versionId }, 'auto');
  }

  /** Which units, contributors and shards fed a version (job versions only). */
  async lineage(name: string, versionId: string) {
    const v = await this.version(name, versionId);
    const units = v.jobId && v.round ? await this.deps.store.listUpdates(v.jobId, v.round) : [];
    const record = v.jobId ? await this.deps.store.getVersion(v.id) : null;
    const used = units.filter((u) => record?.unitIds.includes(u.unitId));
    return {
      version: v,
      updates: used.map((u) => ({
        unitId: u.unitId,
        contributorId: u.contributorId,
        numSamples: u.numSamples,
        loss: u.loss,
        baseVersionId: u.baseVersionId,
        blobHash: u.blobHash,
      })),
      contributors: [...new Set(used.map((u) => u.contributorId))],
      shards: v.jobId && v.round ? await this.shardsOf(v.jobId, v.round, record?.unitIds ?? []) : [],
      numSamples: used.reduce((n, u) => n + u.numSamples, 0),
    };
  }

  /** Recomputes the deterministic shard plan the scheduler used for these units. */
  private async shardsOf(jobId: string, round: number, unitIds: string[]): Promise<string[]> {
    const job = await this.deps.store.getJob(jobId);
    const dataset = job && (await this.deps.store.getDataset(job.spec.dataset));
    if (!job || !dataset) return [];
    const hp = job.spec.hyperparameters;
    const plan = planShards(
      dataset.shardHashes.length,
      dataset.shardSize,
      hp.batchSize * hp.localSteps,
      job.spec.seed,
    );
    const shards = new Set<string>();
    for (const id of unitIds) {
      const index = Number(/\.u(\d+)$/.exec(id)?.[1]);
      if (!Number.isInteger(index)) continue;
      for (const s of plan.shardsFor((round - 1) * job.spec.rounds.unitsPerRound + index))
        shards.add(dataset.shardHashes[s]);
    }
    return [...shards];
  }

  /** Imports a TF.js layers model as a new version of an inference-only model. */
  async importModel(
    name: string,
    modelJson: { modelTopology?: unknown; weightsManifest?: unknown },
    weightData: Uint8Array,
  ): Promise<ModelVersion> {
    checkName('model', name);
    const existing = await this.records.getModel(name);
    if (existing?.jobId)
      throw new GridTabError(
        'CONFLICT',
        `model ${name} is trained by job ${existing.jobId}; pick another name`,
      );
    const { topology, weights } = await importLayersModel(modelJson, weightData, this.deps.builder);
    const hash = await this.deps.blobs.put(new Uint8Array(weights.buffer));
    const topologyHash = await this.deps.blobs.put(new TextEncoder().encode(JSON.stringify(topology)));
    const now = this.now();
    if (!existing) await this.records.insertModel({ name, jobId: null, autoPromote: null, createdAt: now });
    const parentId = (await this.records.listImportedVersions(name)).at(-1)?.id ?? null;
    const id = `v-${randomUUID().slice(0, 12)}`;
    await this.records.insertImportedVersion({
      id,
      modelName: name,
      hash,
      topologyHash,
      parentId,
      createdAt: now,
    });
    this.deps.log(`model ${name}: imported version ${id}`);
    return this.version(name, id);
  }
}
