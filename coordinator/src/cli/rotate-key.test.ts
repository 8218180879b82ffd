/**
 * Encryption at rest through a real coordinator: it starts with DATA_KEY and seals the dataset
 * it imports; a wrong or missing key refuses to start; `gridtab rotate-key` moves every blob to
 * a new key, after which the new key alone starts it and the old one no longer does.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createCoordinator } from '../app.ts';
import { configFromEnv } from '../config.ts';
import { sha256 } from '../storage/blob-store.ts';
import { dataKeysFromEnv } from '../storage/data-key.ts';
import { startTestCoordinator, type TestCoordinator } from '../testing.ts';
import { EXIT } from './dataset.ts';
import { main } from './main.ts';

const OLD = randomBytes(32).toString('base64');
const NEW = randomBytes(32).toString('hex');

describe('encryption at rest and gridtab rotate-key', () => {
  let co: TestCoordinator;
  afterAll(async () => co?.destroy());

  const envFor = (extra: Record<string, string>) => ({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: join(co.dir, 'data'),
    ADMIN_TOKEN: 'test-admin-token',
    FASHION_MNIST_DIR: co.dir,
    GRIDTAB_DEMO_JOB: '0',
    ...extra,
  });
  const start = (extra: Record<string, string>) =>
    createCoordinator(configFromEnv(envFor(extra)), { log: () => {} });
  const run = async (env: Record<string, string>, ...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      progress: new PassThrough(),
      env: envFor(env),
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  /** Every blob the running coordinator holds reads back as the bytes its name says. */
  const readsAll = async (blobs: TestCoordinator['blobs']) => {
    let n = 0;
    for await (const { hash } of blobs.list()) {
      expect(sha256((await blobs.get(hash))!)).toBe(hash);
      n++;
    }
    return n;
  };

  it('starts sealed, refuses a wrong or missing key, and rotates to a new key', async () => {
    co = await startTestCoordinator({ dataKeys: dataKeysFromEnv({ DATA_KEY: OLD }) });
    const count = await readsAll(co.blobs);
    expect(count).toBeGreaterThan(2); // the imported dataset's shards
    await co.close();
    // On disk, every blob file is in the sealed form.
    const blobDir = join(co.dir, 'data', 'blobs');
    const files = readdirSync(blobDir, { recursive: true, withFileTypes: true }).filter(
      (d) => d.isFile() && /^[0-9a-f]{2}$/.test(d.parentPath.split('/').pop()!),
    );
    expect(files.length).toBe(count + 1); // and the key check
    for (const f of files)
      expect(readFileSync(join(f.parentPath, f.name)).subarray(0, 4).toString()).toBe('GTEB');

    await expect(start({ DATA_KEY: NEW })).rejects.toThrow(/DATA_KEY does not open this blob store/);
    await expect(start({})).rejects.toThrow(/encrypted .* DATA_KEY is not set/);

    expect((await run({}, 'rotate-key')).code).toBe(EXIT.usage);
    const wrong = await run({ DATA_KEY: NEW }, 'rotate-key');
    expect(wrong.code).toBe(EXIT.failed);
    expect(wrong.err).toMatch(/DATA_KEY does not open/);
    const rotated = await run({ DATA_KEY: NEW, DATA_KEY_PREVIOUS: OLD }, 'rotate-key');
    expect(rotated.err).toBe('');
    expect(rotated.code).toBe(EXIT.ok);
    expect(rotated.out).toContain(`re-encrypted ${count} blobs, 0 were already under the current key`);

    await expect(start({ DATA_KEY: OLD })).rejects.toThrow(/DATA_KEY does not open/);
    const after = await start({ DATA_KEY: NEW });
    try {
      expect(await readsAll(after.blobs)).toBe(count);
    } finally {
      await after.close();
    }
  });
});
