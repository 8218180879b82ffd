/**
 * Gathers what the alert rules judge from the coordinator's state: alias histories and
 * version metrics (promotions), SDK telemetry against the training data (drift), contributors'
 * recent outcomes (rejections) and each running job's last progress. Every store and registry
 * call is awaited, so this works unchanged once the Store is asynchronous.
 */
import type { Clock } from '../clock.ts';
import type { Registry } from '../registry/registry.ts';
import type { InferenceTelemetry } from '../registry/telemetry.ts';
import type { Store } from '../storage/store.ts';
import {
  type AlertThresholds,
  accuracyAfterPromotion,
  type DriftInput,
  drift,
  type Finding,
  type JobProgressInput,
  noProgress,
  type PromotionInput,
  rejectionRate,
} from './alert-rules.ts';
import type { DriftReferences } from './drift-reference.ts';
import type { UpdateOutcomes } from './outcomes.ts';

export interface AlertSources {
  store: Store;
  registry: Registry;
  telemetry: InferenceTelemetry;
  outcomes: UpdateOutcomes;
  references: DriftReferences;
  clock: Clock;
  thresholds: AlertThresholds;
}

export class AlertInputs {
  /** When each job was first seen running this time (a resume restarts the no-progress wait). */
  private readonly runningSince = new Map<string, number>();

  constructor(private readonly src: AlertSources) {}

  async findings(): Promise<Finding[]> {
    const t = this.src.thresholds;
    const now = this.src.clock.now();
    return [
      ...accuracyAfterPromotion(await this.promotions(), t),
      ...drift(await this.drift(), t),
      ...rejectionRate(this.src.outcomes.contributorRates(now), t),
      ...noProgress(await this.progress(now), now, t),
    ];
  }

  private async promotions(): Promise<PromotionInput[]> {
    const { registry } = this.src;
    const out: PromotionInput[] = [];
    for (const m of await registry.listModels()) {
      const versions = await registry.versions(m.name);
      const accuracy = (id: string) => versions.find((v) => v.id === id)?.metrics.testAccuracy ?? null;
      for (const alias of Object.keys(m.aliases)) {
        const history = await registry.history(m.name, alias);
        if (history.at(-1)?.actor === 'rollback') continue;
        // The same stack rollback walks: a rolled-back move no longer counts.
        const stack: typeof history = [];
        for (const move of history) {
          if (move.actor === 'rollback') stack.pop();
          else stack.push(move);
        }
        const [previous, current] = stack.slice(-2);
        if (!previous || !current || previous.versionId === current.versionId) continue;
        const promoted = versions.find((v) => v.id === current.versionId);
        const newest = versions.at(-1);
        const later =
          promoted?.jobId &&
          newest &&
          newest.id !== promoted.id &&
          (newest.round ?? 0) > (promoted.round ?? 0)
            ? { versionId: newest.id, testAccuracy: newest.metrics.testAccuracy }
            : null;
        out.push({
          model: m.name,
          alias,
          current: { versionId: current.versionId, testAccuracy: accuracy(current.versionId) },
          previous: { versionId: previous.versionId, testAccuracy: accuracy(previous.versionId) },
          later,
        });
      }
    }
    return out;
  }

  private async drift(): Promise<DriftInput[]> {
    const { store, telemetry, references } = this.src;
    const out: DriftInput[] = [];
    for (const { name, versionId } of telemetry.reported()) {
      // Imported models have no training data here: their drift is not judged.
      const jobId = (await store.getVersion(versionId))?.jobId;
      const job = jobId ? await store.getJob(jobId) : null;
      const dataset = job ? await store.getDataset(job.spec.dataset) : null;
      const seen = telemetry.forVersion(name, versionId);
      out.push({
        model: name,
        versionId,
        predictions: seen.predictions,
        classCounts: seen.classCounts,
        input: seen.input,
        reference: dataset ? await references.get(dataset) : null,
      });
    }
    return out;
  }

  private async progress(now: number): Promise<JobProgressInput[]> {
    const { store } = this.src;
    const out: JobProgressInput[] = [];
    for (const job of await store.listJobs()) {
      if (job.status !== 'running') {
        this.runningSince.delete(job.id);
        continue;
      }
      if (!this.runningSince.has(job.id)) this.runningSince.set(job.id, now);
      const version = job.versionId ? await store.getVersion(job.versionId) : null;
      const updates = await store.listUpdates(job.id, job.round);
      const times = [
        this.runningSince.get(job.id)!,
        version && version.round > 0 ? Date.parse(version.createdAt) : 0,
        ...updates.map((u) => Date.parse(u.createdAt)),
      ];
      out.push({ jobId: job.id, name: job.name, running: true, lastProgressAt: Math.max(...times) });
    }
    return out;
  }
}
