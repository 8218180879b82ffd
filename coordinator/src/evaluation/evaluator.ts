/**
 * Evaluates weights on a dataset's held-out test set with TF.js in Node. Test tensors are built
 * once per dataset (from the content-addressed test shard) and one model per job spec is kept,
 * so a round's evaluation costs one forward pass over the test set, in small batches that let
 * the event loop answer between them. Both are kept in small LRU caches that dispose what they
 * drop: every sweep trial may bring a new topology, and a long-running coordinator must not keep
 * one model per topology it ever saw.
 */
import type { RegressionLoss, VersionMetrics } from '@gridtab/shared';
import {
  type Batches,
  buildModel,
  disposeBatches,
  evaluateBatches,
  setFlatWeights,
  shardToTensors,
  toBatches,
} from '@gridtab/shared/tf';
import { dataSpecOf } from '../datasets/data-spec.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { DatasetRecord } from '../storage/store.ts';
import { LruCache } from './lru-cache.ts';
import { initTf, tf } from './tf-node.ts';

export interface Evaluator {
  evaluate(
    spec: Record<string, unknown>,
    weights: Float32Array,
    dataset: DatasetRecord,
    loss?: RegressionLoss,
  ): Promise<VersionMetrics>;
  /** Ends what the evaluator started (its thread); evaluations in flight fail. */
  close?(): Promise<void>;
}

/** Models kept built (one per topology): the running jobs of a sweep, a few at a time. */
export const MODELS_KEPT = 4;
/** Test sets kept as tensors (one per dataset version); Fashion-MNIST's is 31 MB of f32. */
export const TEST_SETS_KEPT = 2;
/**
 * Test rows per forward pass. The event loop answers between passes, so this bounds how long
 * a round close holds it: 200 rows of the 55k-parameter CNN are a small fraction of a second of
 * wasm, where the whole 10k test set back to back held the loop for seconds (long enough for
 * keep-alive sockets to time out, so status polls met ECONNRESET).
 */
export const EVAL_BATCH_ROWS = 200;

/** Lets timers and sockets run before the next batch (a macrotask, not a microtask). */
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class TfEvaluator implements Evaluator {
  private readonly testSets = new LruCache<string, Batches>(TEST_SETS_KEPT, disposeBatches);
  private readonly models = new LruCache<string, tf.LayersModel>(MODELS_KEPT, (m) => m.dispose());
  /**
   * Evaluations run one at a time: a concurrent one could evict (and dispose) the model or test
   * set this one fetched across an await. TF.js on one thread runs them in turn anyway.
   */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly blobs: Pick<BlobStore, 'get'>) {}

  /** How many models and test sets are held now (for tests and telemetry). */
  get held(): { models: number; testSets: number } {
    return { models: this.models.size, testSets: this.testSets.size };
  }

  /**
   * The version's test rows as tensors, normalized and labelled as training sees them, cut into
   * batches once (toBatches says why not per evaluation).
   */
  private async testSet(dataset: DatasetRecord) {
    let set = this.testSets.get(dataset.id);
    if (!set) {
      const spec = dataSpecOf(dataset);
      const parts = [];
      for (const hash of dataset.testHashes) {
        const bytes = await this.blobs.get(hash);
        if (!bytes) throw new Error(`test shard ${hash} of dataset ${dataset.id} is missing`);
        parts.push(shardToTensors(bytes, spec));
      }
      const x = parts.length === 1 ? parts[0].x : tf.concat(parts.map((p) => p.x));
      const y = parts.length === 1 ? parts[0].y : (tf.concat(parts.map((p) => p.y)) as tf.Tensor2D);
      set = toBatches(x, y, EVAL_BATCH_ROWS);
      tf.dispose([x, y]);
      if (parts.length > 1) tf.dispose(parts.flatMap((p) => [p.x, p.y]));
      this.testSets.set(dataset.id, set);
    }
    return set;
  }

  private async model(spec: Record<string, unknown>) {
    const key = JSON.stringify(spec);
    let model = this.models.get(key);
    if (!model) {
      model = await buildModel(spec);
      this.models.set(key, model);
    }
    return model;
  }

  evaluate(
    spec: Record<string, unknown>,
    weights: Float32Array,
    dataset: DatasetRecord,
    loss: RegressionLoss = 'mse',
  ): Promise<VersionMetrics> {
    const run = this.queue.then(() => this.evaluateNow(spec, weights, dataset, loss));
    this.queue = run.catch(() => {});
    return run;
  }

  private async evaluateNow(
    spec: Record<string, unknown>,
    weights: Float32Array,
    dataset: DatasetRecord,
    loss: RegressionLoss,
  ): Promise<VersionMetrics> {
    await initTf();
    const batches = await this.testSet(dataset);
    const model = await this.model(spec);
    setFlatWeights(model, weights);
    const r = await evaluateBatches(model, batches, dataSpecOf(dataset, loss), yieldToLoop);
    if (dataset.schema.task.kind === 'classification') return { testLoss: r.loss, testAccuracy: r.accuracy };
    return { testLoss: r.loss, testAccuracy: null, testR2: r.r2, testMae: r.mae, testRmse: r.rmse };
  }

  dispose(): void {
    this.testSets.clear();
    this.models.clear();
  }
}
