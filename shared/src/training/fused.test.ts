/**
 * The kernel-backed training loss matches the layers-API loss and its gradients, on webgpu
 * (our WGSL kernels, through Dawn + SwiftShader here) and on cpu (the TF.js fallback path).
 */
import { encodeShard, imageDataSpec, imageShard, MODEL_PRESETS } from '@gridtab/shared';
import { buildModel, crossEntropyPerSample, getFlatWeights } from '@gridtab/shared/tf';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onBackend, setUpWebGPU, tearDownWebGPU } from '../../../kernels/src/testing/backends.ts';
import { fusedLoss } from './fused.ts';
import { Trainer } from './trainer.ts';

beforeAll(setUpWebGPU);
afterAll(tearDownWebGPU);

describe('fused training loss', () => {
  // Confident: the output layer's weights scaled up until some rows are confidently wrong
  // (p_y < 1e-7), where the layers loss's clipping leaves no gradient; the fused loss must agree.
  for (const confident of [false, true]) {
    for (const backend of ['webgpu', 'cpu']) {
      const which = confident ? 'a confident MLP' : 'the MLP';
      it(`matches the layers loss and gradients of ${which} on ${backend}`, async () => {
        await onBackend(backend, async () => {
          const model = await buildModel(MODEL_PRESETS['fashion-mlp']);
          const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
          const x = tf.randomUniform([13, 28, 28, 1], 0, 1, 'float32', 7);
          const y = tf
            .oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2], 'int32'), 10)
            .toFloat() as tf.Tensor2D;
          const fused = fusedLoss(model)!;
          const layers = () => {
            const p = model.apply(x, { training: true }) as tf.Tensor2D;
            return tf.mean(crossEntropyPerSample(p, y)) as tf.Scalar;
          };
          if (confident) {
            const out = model.layers[model.layers.length - 1].trainableWeights[0].read() as tf.Variable;
            out.assign(tf.mul(out, 200));
            const py = await tf.sum(tf.mul(model.predict(x) as tf.Tensor, y), 1).data();
            expect(py.filter((v) => v < 1e-7).length).toBeGreaterThan(0);
          }
          const a = tf.variableGrads(() => fused(x, y), vars);
          const b = tf.variableGrads(layers, vars);
          const [la, lb] = [(await a.value.data())[0], (await b.value.data())[0]];
          // A WGSL error invalidates the whole command buffer and both sides read back zeros.
          expect(lb).toBeGreaterThan(0.1);
          expect(Math.abs(la - lb)).toBeLessThan(1e-4 * (1 + Math.abs(lb)));
          for (const v of vars) {
            const ga = await a.grads[v.name].data();
            const gb = await b.grads[v.name].data();
            let worst = 0;
            let scale = 0;
            for (let i = 0; i < ga.length; i++) {
              worst = Math.max(worst, Math.abs(ga[i] - gb[i]));
              scale = Math.max(scale, Math.abs(gb[i]));
            }
            expect(worst, v.name).toBeLessThan(1e-4 * Math.max(1, scale));
          }
          model.dispose();
        });
      });
    }
  }

  it('is what a unit trains through on webgpu', async () => {
    await onBackend('webgpu', async () => {
      const shard = encodeShard(
        imageShard({
          count: 8,
          rows: 28,
          cols: 28,
          pixels: Uint8Array.from({ length: 8 * 784 }, (_, i) => (i * 37) % 256),
          labels: Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7),
        }),
      );
      const model = await buildModel(MODEL_PRESETS['fashion-mlp']);
      const base = await getFlatWeights(model);
      model.dispose();
      const unit = {
        unitId: 'u',
        leaseId: 'l',
        jobId: 'j',
        round: 1,
        baseVersionId: 'v',
        baseWeightsHash: 'h',
        model: MODEL_PRESETS['fashion-mlp'],
        datasetId: 'd',
        data: imageDataSpec('d', [28, 28, 1], 10),
        shardHashes: ['s'],
        batchSize: 4,
        localSteps: 2,
        learningRate: 0.001,
        optimizer: 'adam' as const,
        seed: 1,
        codec: { name: 'fp32' as const },
        deadline: 0,
      };
      const trainer = new Trainer();
      let result: Awaited<ReturnType<Trainer['trainUnit']>> | undefined;
      const profile = await tf.profile(async () => {
        result = await trainer.trainUnit(
          unit,
          base,
          [shard],
          () => {},
          () => false,
        );
      });
      trainer.dispose();
      expect(profile.kernelNames).toContain('GridTabFusedDense');
      expect(profile.kernelNames).toContain('GridTabSoftmaxCrossEntropy');
      expect(result!.delta.some((d) => d !== 0)).toBe(true);
    });
  });

  it('declines models it does not cover', async () => {
    const cnn = await buildModel(MODEL_PRESETS['fashion-cnn']);
    expect(fusedLoss(cnn)).toBeNull();
    cnn.dispose();
  });
});
