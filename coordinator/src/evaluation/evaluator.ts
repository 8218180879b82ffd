/**
 * Evaluates weights on a dataset's held-out test set with TF.js in Node. Test tensors are built
 * once per dataset (from the content-addressed test shard) and one model per job spec is kept,
 * so a round's evaluation costs one forward pass over the test set.
 */
import type { VersionMetrics } from '@gridtab/shared';
import { buildModel, evaluate, setFlatWeights, shardToTensors } from '@gridtab/shared/tf';
import type { BlobStore } from '../storage/blob-store.ts';
import type { DatasetRecord } from '../storage/store.ts';
import { initTf, type tf } from './tf-node.ts';

export interface Evaluator {
  evaluate(
    spec: Record<string, unknown>,
    weights: Float32Array,
    dataset: DatasetRecord,
  ): Promise<VersionMetrics>;
}

export class TfEvaluator implements Evaluator {
  private readonly testSets = new Map<string, { x: tf.Tensor4D; y: tf.Tensor2D }>();
  private readonly models = new Map<string, tf.LayersModel>();

  constructor(private readonly blobs: BlobStore) {}

  private async testSet(dataset: DatasetRecord) {
    let set = this.testSets.get(dataset.testHash);
    if (!set) {
      const bytes = await this.blobs.get(dataset.testHash);
      if (!bytes) throw new Error(`test shard ${dataset.testHash} of dataset ${dataset.id} is missing`);
      const { x, y } = shardToTensors(bytes, dataset.numClasses);
      set = { x, y };
      this.testSets.set(dataset.testHash, set);
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

  async evaluate(spec: Record<string, unknown>, weights: Float32Array, dataset: DatasetRecord) {
    await initTf();
    const { x, y } = await this.testSet(dataset);
    const model = await this.model(spec);
    setFlatWeights(model, weights);
    const { loss, accuracy } = evaluate(model, x, y);
    return { testLoss: loss, testAccuracy: accuracy };
  }

  dispose(): void {
    for (const { x, y } of this.testSets.values()) {
      x.dispose();
      y.dispose();
    }
    for (const m of this.models.values()) m.dispose();
    this.testSets.clear();
    this.models.clear();
  }
}
