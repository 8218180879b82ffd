import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSyntheticDataset } from '../testing.ts';
import { DEFAULT_FASHION_MNIST_DIR, FASHION_MNIST_FILES, loadFashionMnist } from './fashion-mnist.ts';

describe('Fashion-MNIST loader', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridtab-fm-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the real dataset installed by dataset-fashion-mnist', () => {
    const data = loadFashionMnist(DEFAULT_FASHION_MNIST_DIR);
    expect([data.train.count, data.test.count]).toEqual([60_000, 10_000]);
    expect([data.train.rows, data.train.cols]).toEqual([28, 28]);
    expect(new Set(data.test.labels).size).toBe(10);
  });

  it('names the missing file and how to get it', () => {
    writeSyntheticDataset(dir, 20, 10);
    unlinkSync(join(dir, FASHION_MNIST_FILES.testLabels));
    expect(() => loadFashionMnist(dir)).toThrow(
      /t10k-labels-idx1-ubyte\.gz.*apt-get install dataset-fashion-mnist/s,
    );
  });
});
