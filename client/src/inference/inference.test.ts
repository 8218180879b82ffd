/**
 * The SDK in Node against a real coordinator (the browser-only parts, IndexedDB and WebGPU, are
 * covered by e2e/inference.spec.ts): loading by alias, caching, refusing bad weights, typed
 * errors, live swaps and telemetry.
 */
import { jobSpecSchema } from '@gridtab/shared';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitVersion } from '../../../coordinator/src/registry/testing.ts';
import { createJob } from '../../../coordinator/src/scheduler/jobs.ts';
import { startTestCoordinator, TEST_JOB, type TestCoordinator } from '../../../coordinator/src/testing.ts';
import { InferenceError, type LoadOptions, loadModel, MemoryModelCache } from './index.ts';

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
    const model = await loadModel('fashion', options({ live: false, telemetry: false }));
    expect(model.version).toBe(versions[1].id);
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
});
