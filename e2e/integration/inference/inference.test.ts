/**
 * The SDK in Node against a real coordinator (the browser-only parts, IndexedDB and WebGPU, are
 * covered by e2e/inference.spec.ts): loading by alias, caching, refusing bad weights, typed
 * errors, live swaps and telemetry.
 */

import {
  type GridTabMeta,
  InferenceError,
  type LoadOptions,
  loadModel,
  MemoryModelCache,
} from '@gridtab/client/inference';
import { startTestCoordinator, TEST_JOB, type TestCoordinator } from '@gridtab/coordinator/testing';
import { jobSpecSchema, type Normalization, PIXEL_NORMALIZATION } from '@gridtab/shared';
import { buildModel, getFlatWeights, setFlatWeights } from '@gridtab/shared/tf';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitVersion } from '../../../coordinator/src/registry/testing.ts';
import { createJob } from '../../../coordinator/src/scheduler/jobs.ts';
import type { DatasetRecord } from '../../../coordinator/src/storage/store.ts';

let co: TestCoordinator;
let versions: { id: string; hash: string }[];
const adminPost = (path: string, body: unknown) =>
  fetch(`${co.url}${path}`, {
    method: 'POST',
    headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** A fetch that counts weight downloads and can alter or drop them. */
function tracingFetch(mode: { tamper?: boolean; truncate?: boolean; offline?: boolean } = {}) {
  const seen: string[] = [];
  const fn: typeof fetch = async (input, init) => {
    const url = String(input);
    seen.push(url);
    if (mode.offline) throw new TypeError('fetch failed (offline)');
    const res = await fetch(input, init);
    if (!url.includes('/models/weights/') || !(mode.tamper || mode.truncate)) return res;
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (mode.tamper) bytes[10] ^= 0xff;
    return new Response(mode.truncate ? bytes.subarray(0, bytes.length - 4) : bytes, { status: 200 });
  };
  return { fn, weightDownloads: () => seen.filter((u) => u.includes('/models/weights/')).length };
}

/**
 * A fetch that rewrites the GridTab metadata of every model.json it passes on: `strip` removes
 * what exports of versioned datasets carry (an older export), `add` sets it. The registry of
 * branch dataset-api exports these fields; until it is merged here, `add` puts in what it will.
 */
function metaFetch(change: { strip?: boolean; add?: Partial<GridTabMeta> }): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    if (!String(input).endsWith('/model.json') || !res.ok) return res;
    const json = (await res.json()) as { userDefinedMetadata: { gridtab: GridTabMeta } };
    const meta = json.userDefinedMetadata.gridtab;
    if (change.strip)
      for (const k of ['dataset', 'task', 'normalization', 'targetNames'] as const) delete meta[k];
    Object.assign(meta, change.add ?? {});
    return new Response(JSON.stringify(json), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  };
}

const options = (extra: Partial<LoadOptions> = {}): LoadOptions => ({
  coordinator: co.url,
  backend: 'cpu',
  cache: new MemoryModelCache(),
  ...extra,
});

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e) => (e instanceof InferenceError ? e.code : `untyped: ${e}`),
  );

beforeAll(async () => {
  co = await startTestCoordinator();
  const job = await createJob(co, jobSpecSchema.parse({ ...TEST_JOB, name: 'fashion' }));
  await commitVersion(co, job.id, 0.6);
  await commitVersion(co, job.id, 0.7);
  versions = await co.registry.versions('fashion');
  await adminPost('/api/models/fashion/aliases/production', { versionId: versions[1].id });
});
afterAll(() => co?.destroy());

describe('inference SDK', () => {
  it('loads the alias version and predicts what plain TF.js predicts with the exported model', async () => {
    // An export without normalization: inputs are used as given.
    const model = await loadModel(
      'fashion',
      options({ fetch: metaFetch({ strip: true }), live: false, telemetry: false }),
    );
    expect(model.version).toBe(versions[1].id);
    expect(model.normalization).toBeNull();
    expect(model.task).toEqual({ kind: 'classification', numClasses: 10 });
    expect(model.inputShape).toEqual([28, 28, 1]);
    expect(model.labels?.[0]).toBe('T-shirt/top');
    const input = Float32Array.from({ length: 2 * 784 }, (_, i) => (i % 17) / 17);
    const ours = await model.predict(input);
    const plain = await tf.loadLayersModel(
      `${co.url}/api/models/fashion/versions/${versions[1].id}/model.json`,
    );
    const x = tf.tensor(input, [2, 28, 28, 1]);
    expect(Array.from(ours)).toEqual(
      Array.from((await (plain.predict(x) as tf.Tensor).data()) as Float32Array),
    );
    const c = await model.classify(tf.fill([28, 28, 1], 128) as tf.Tensor3D);
    expect(c.versionId).toBe(versions[1].id);
    expect(c.confidence).toBe(Math.max(...c.probabilities));
    expect(await codeOf(model.predict(new Float32Array(100)))).toBe('INPUT_MISMATCH');
    expect(await codeOf(model.predict(tf.zeros([1, 10, 10, 1])))).toBe('INPUT_MISMATCH');
    tf.dispose([x]);
    plain.dispose();
    model.dispose();
    expect(await codeOf(model.predict(input))).toBe('DISPOSED');
  });

  it('moves to the next coordinator in its list when one cannot be reached', async () => {
    // Port 9 (discard) refuses connections: the SDK must load through the second URL.
    const model = await loadModel(
      'fashion',
      options({ coordinator: ['http://127.0.0.1:9', co.url], live: false, telemetry: false }),
    );
    expect(model.version).toBe(versions[1].id);
    expect((await model.predict(new Float32Array(784))).length).toBe(10);
    model.dispose();
  });

  it("'fastest' measures the backends that start here and serves on the quickest", async () => {
    const model = await loadModel('fashion', options({ backend: 'fastest', live: false, telemetry: false }));
    expect(['webgl', 'wasm', 'cpu']).toContain(model.backend);
    expect(tf.getBackend()).toBe(model.backend);
    expect((await model.predict(new Float32Array(784))).length).toBe(10);
    model.dispose();
    await tf.setBackend('cpu');
  });

  it('downloads weights once: a second load, and an offline one, come from the cache', async () => {
    const cache = new MemoryModelCache();
    const first = tracingFetch();
    (
      await loadModel('fashion', options({ cache, fetch: first.fn, live: false, telemetry: false }))
    ).dispose();
    expect(first.weightDownloads()).toBe(1);
    const second = tracingFetch();
    (
      await loadModel('fashion', options({ cache, fetch: second.fn, live: false, telemetry: false }))
    ).dispose();
    expect(second.weightDownloads()).toBe(0);
    const offline = tracingFetch({ offline: true });
    const model = await loadModel(
      'fashion',
      options({ cache, fetch: offline.fn, live: false, telemetry: false }),
    );
    expect(model.version).toBe(versions[1].id);
    model.dispose();
  });

  it('refuses tampered and truncated weights, and names unknown models, aliases and versions', async () => {
    const tampered = tracingFetch({ tamper: true });
    expect(await codeOf(loadModel('fashion', options({ fetch: tampered.fn, live: false })))).toBe(
      'WEIGHTS_MISMATCH',
    );
    const truncated = tracingFetch({ truncate: true });
    expect(await codeOf(loadModel('fashion', options({ fetch: truncated.fn, live: false })))).toBe(
      'WEIGHTS_MISMATCH',
    );
    expect(await codeOf(loadModel('no-such-model', options({ live: false })))).toBe('NOT_FOUND');
    expect(await codeOf(loadModel('fashion', options({ alias: 'nope', live: false })))).toBe('NOT_FOUND');
    expect(await codeOf(loadModel('fashion', options({ version: 'v-missing', live: false })))).toBe(
      'NOT_FOUND',
    );
    expect(
      await codeOf(loadModel('fashion', options({ coordinator: 'http://127.0.0.1:9', live: false }))),
    ).toBe('NETWORK');
  });

  it('swaps to a promoted version live, keeps serving when a promoted version is refused, reports telemetry', async () => {
    const swapped: string[] = [];
    const refused: string[] = [];
    let tamper = false;
    const fetchFn: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!tamper || !String(input).includes('/models/weights/')) return res;
      const bytes = new Uint8Array(await res.arrayBuffer());
      bytes[0] ^= 1;
      return new Response(bytes);
    };
    const model = await loadModel('fashion', options({ fetch: fetchFn, reportIntervalMs: 60_000 }));
    model.onUpdate((v) => swapped.push(v.versionId));
    model.onError((e) => refused.push(e.code));
    await model.predict(new Float32Array(784).fill(0.5));
    const updated = new Promise<void>((resolve) => model.onUpdate(() => resolve()));
    await adminPost('/api/models/fashion/aliases/production', { versionId: versions[2].id });
    await updated;
    expect(model.version).toBe(versions[2].id);
    // Telemetry of the first version was flushed at the swap.
    await expect.poll(() => co.inferenceTelemetry.forVersion('fashion', versions[1].id).predictions).toBe(1);
    expect(co.inferenceTelemetry.forVersion('fashion', versions[1].id).input.mean).toBeCloseTo(0.5);

    tamper = true;
    const failed = new Promise<void>((resolve) => model.onError(() => resolve()));
    await adminPost('/api/models/fashion/aliases/production', { versionId: versions[0].id });
    await failed;
    expect(refused).toEqual(['WEIGHTS_MISMATCH']);
    expect(model.version).toBe(versions[2].id);
    expect((await model.predict(new Float32Array(784))).length).toBe(10);
    expect(swapped).toEqual([versions[2].id]);
    model.dispose();
  });

  it('applies the version normalization to raw inputs; classify feeds raw pixels to it', async () => {
    const model = await loadModel(
      'fashion',
      options({
        // A fixed version: the alias moved in the test before.
        version: versions[1].id,
        fetch: metaFetch({ add: { dataset: 'fashion-mnist@1', normalization: PIXEL_NORMALIZATION } }),
        live: false,
        telemetry: false,
      }),
    );
    expect(model.dataset).toBe('fashion-mnist@1');
    const plain = await tf.loadLayersModel(
      `${co.url}/api/models/fashion/versions/${versions[1].id}/model.json`,
    );
    const pixels = Float32Array.from({ length: 784 }, (_, i) => (i * 37) % 256);
    const ours = await model.predict(pixels);
    const scaled = tf.tensor(
      pixels.map((p) => p / 255),
      [1, 28, 28, 1],
    );
    const expected = (await (plain.predict(scaled) as tf.Tensor).data()) as Float32Array;
    for (let i = 0; i < 10; i++) expect(ours[i]).toBeCloseTo(expected[i], 5);
    // A grey image of 128: the same probabilities as 128/255 everywhere through plain TF.js.
    const c = await model.classify(tf.fill([28, 28, 1], 128) as tf.Tensor3D);
    const grey = (await (
      plain.predict(tf.fill([1, 28, 28, 1], 128 / 255)) as tf.Tensor
    ).data()) as Float32Array;
    for (let i = 0; i < 10; i++) expect(c.probabilities[i]).toBeCloseTo(grey[i], 5);
    const [named] = await model.predictNamed(pixels);
    expect(named.kind).toBe('classification');
    if (named.kind === 'classification') {
      expect(Object.keys(named.probabilities)).toEqual(model.labels);
      expect(named.probabilities[named.label]).toBe(named.confidence);
      expect(named.confidence).toBeCloseTo(Math.max(...expected), 5);
    }
    tf.dispose([scaled]);
    plain.dispose();
    model.dispose();
  });

  it('predicts regression targets in their own units from raw feature values, a missing one as its mean', async () => {
    // A regression dataset version (3 features, 2 targets) and a linear model trained on it.
    const normalization: Normalization = {
      inputMean: [10, -2, 100],
      inputStd: [2, 0.5, 50],
      targetMean: [25, 3000],
      targetStd: [5, 800],
      imputation: 'mean',
    };
    const record: DatasetRecord = {
      id: 'cars@1',
      name: 'cars',
      version: 1,
      hash: 'c'.repeat(64),
      schema: {
        task: { kind: 'regression', numTargets: 2 },
        inputShape: [3],
        inputDtype: 'float32',
        featureNames: ['Cylinders', 'Acceleration', 'Horsepower'],
        categorical: [],
        labelColumn: 'Miles_per_Gallon',
        classNames: null,
        targetNames: ['Miles_per_Gallon', 'Weight_in_lbs'],
      },
      stats: { features: [], targets: null, classCounts: null, duplicates: 0, droppedRows: 0, warnings: [] },
      splits: { method: 'hash', seed: 1, testFraction: 0.2, train: 0, test: 0 },
      normalization,
      source: null,
      parent: null,
      numTrain: 0,
      numTest: 0,
      shardSize: 64,
      shardHashes: [],
      testHashes: [],
      bytes: 0,
      createdAt: new Date().toISOString(),
    };
    await co.store.putDataset(record);
    const topology = {
      class_name: 'Sequential',
      config: {
        name: 'cars_linear',
        layers: [
          {
            class_name: 'Dense',
            config: { units: 2, activation: 'linear', batch_input_shape: [null, 3], name: 'out' },
          },
        ],
      },
    };
    const job = await createJob(
      co,
      jobSpecSchema.parse({ ...TEST_JOB_OF(topology), name: 'cars-mpg', dataset: 'cars@1' }),
    );
    const committed = await commitVersion(co, job.id, null);
    const net = await buildModel(topology);
    const flat = await getFlatWeights(net);
    // The version's weights, read back the way the registry stores them.
    const stored = new Float32Array((await co.blobs.get(committed.hash))!.slice().buffer);
    expect(stored.length).toBe(flat.length);
    setFlatWeights(net, stored);

    const model = await loadModel(
      'cars-mpg',
      options({
        version: committed.id,
        fetch: metaFetch({
          add: {
            dataset: 'cars@1',
            task: record.schema.task,
            normalization,
            targetNames: record.schema.targetNames,
          },
        }),
        live: false,
        telemetry: false,
      }),
    );
    expect(model.task).toEqual({ kind: 'regression', numTargets: 2 });
    const raw = [
      [12, -1.5, 150],
      [8, -2.5, 60],
    ];
    const out = await model.predict(raw.flat());
    // By hand: standardize, the linear layer, then back to target units.
    const z = tf.tensor2d(
      raw.map((r) => r.map((v, i) => (v - normalization.inputMean[i]) / normalization.inputStd[i])),
    );
    const y = (await (net.predict(z) as tf.Tensor).data()) as Float32Array;
    const want = Array.from(
      y,
      (v, i) => v * normalization.targetStd![i % 2] + normalization.targetMean![i % 2],
    );
    expect(out.length).toBe(4);
    for (let i = 0; i < 4; i++) expect(out[i]).toBeCloseTo(want[i], 3);
    const named = await model.predictNamed(raw.flat());
    expect(named).toHaveLength(2);
    expect(named[1]).toEqual({
      kind: 'regression',
      values: { Miles_per_Gallon: out[2], Weight_in_lbs: out[3] },
    });
    // Mean imputation: a missing feature (NaN) predicts as the feature's train mean would.
    const missing = await model.predict([12, Number.NaN, 150]);
    const atMean = await model.predict([12, normalization.inputMean[1], 150]);
    expect(Array.from(missing).every(Number.isFinite)).toBe(true);
    expect(Array.from(missing)).toEqual(Array.from(atMean));
    tf.dispose([z]);
    net.dispose();
    model.dispose();
  });
});

const TEST_JOB_OF = (model: Record<string, unknown>) => ({
  name: 'x',
  model,
  dataset: 'fashion-mnist',
  hyperparameters: { batchSize: 32, localSteps: 10, learningRate: 0.002, optimizer: 'adam' as const },
  stopping: { maxRounds: 5 },
});
